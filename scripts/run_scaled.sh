#!/usr/bin/env bash
# Several Rasa servers and action servers on this machine behind nginx, sharing PostgreSQL
# (conversations) and Redis (per-conversation lock): `make run-scaled` calls this after install,
# training and scripts/services.sh. See docs/operating.md, "Scaling out".
#
# Environment (all optional):
#   RASA_SERVERS (2)  ACTION_SERVERS (1)    how many processes of each
#   RASA_PORT (5005)                        nginx: clients and channels connect here
#   ACTIONS_PORT (5055)                     nginx in front of the action servers
#   BASE_PORT (5100)                        Rasa servers on BASE_PORT+1.., action servers on BASE_PORT+51..
#   IOM_METRICS_PORT (9102)                 metrics: Rasa servers on 9102.., then the action servers
#                                           (one port per process, printed at start;
#                                           docs/operating.md, "Monitoring")
#   RASA_AUTH_TOKEN                         enables Rasa's HTTP API behind this token (off when unset)
#   DB_HOST (127.0.0.1) DB_PORT (5432) DB_USER (postgres) DB_PASSWORD ("") DB_NAME (iom)
#   REDIS_HOST (127.0.0.1) REDIS_PORT (6379) REDIS_PASSWORD ("")
#   IOM_RETENTION_DAYS (90)                 conversations with no message for that long are deleted (daily)
#   IOM_RATE_LIMIT (40/30s)                 per-sender limit, shared by the servers through Redis
#   IOM_ADDRESS_RATE_LIMIT (50/10s), IOM_NEW_CONVERSATION_LIMIT (30/10m)  per client address
#   IOM_ACTION_TOKEN (random per run)       secret between the Rasa and the action servers
#   IOM_TRUSTED_PROXIES (127.0.0.1)         whose X-Forwarded-For is believed: this nginx
#   NGINX_LIMIT_EXEMPT                      addresses/ranges exempt from nginx's per-address limit
# The database DB_NAME is created if missing. Logs: run/scaled/.
set -euo pipefail
cd "$(dirname "$0")/.."

RASA_SERVERS=${RASA_SERVERS:-2}
ACTION_SERVERS=${ACTION_SERVERS:-1}
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
BASE_PORT=${BASE_PORT:-5100}
export DB_HOST=${DB_HOST:-127.0.0.1} DB_PORT=${DB_PORT:-5432} DB_USER=${DB_USER:-postgres}
export DB_PASSWORD=${DB_PASSWORD:-} DB_NAME=${DB_NAME:-iom}
export REDIS_HOST=${REDIS_HOST:-127.0.0.1} REDIS_PORT=${REDIS_PORT:-6379} REDIS_PASSWORD=${REDIS_PASSWORD:-}
export ACTION_ENDPOINT_URL="http://127.0.0.1:${ACTIONS_PORT}/webhook"
export RASA_TELEMETRY_ENABLED=false
BIN=.venv/bin
# One secret for every Rasa server and action server of this run (server/action_token.py).
export IOM_ACTION_TOKEN=${IOM_ACTION_TOKEN:-$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(32))')}
# nginx, on this machine, forwards the client's address in X-Forwarded-For: believe it from
# nginx only (channels/client_address.py), or every client would share nginx's address.
export IOM_TRUSTED_PROXIES=${IOM_TRUSTED_PROXIES:-127.0.0.1}
RUN=run/scaled
mkdir -p "$RUN"

LOG_DIR=$RUN
WAIT_SECONDS=180
source scripts/processes.sh

# The conversation database (PostgreSQL cannot create it on first connection).
$BIN/python - <<'PY'
import os, psycopg2
c = psycopg2.connect(host=os.environ["DB_HOST"], port=os.environ["DB_PORT"], user=os.environ["DB_USER"],
                     password=os.environ["DB_PASSWORD"] or None, dbname="postgres")
c.autocommit = True
cur = c.cursor()
cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (os.environ["DB_NAME"],))
if not cur.fetchone():
    cur.execute('CREATE DATABASE "%s"' % os.environ["DB_NAME"].replace('"', ""))
    print(f"Created database {os.environ['DB_NAME']}")
PY

# Retention (docs/privacy.md): old conversations deleted now, then once a day while this runs.
$BIN/python -m privacy.purge --endpoints deploy/endpoints.yml

rasa_ports=(); action_ports=()
for i in $(seq 1 "$RASA_SERVERS"); do rasa_ports+=($((BASE_PORT + i))); done
for i in $(seq 1 "$ACTION_SERVERS"); do action_ports+=($((BASE_PORT + 50 + i))); done
# Metrics: one port per process (server/metrics_port.py): Rasa server i on METRICS_PORT+i, action
# server j on the ports after them. An action server serves on its IOM_METRICS_PORT + 1.
METRICS_PORT=${IOM_METRICS_PORT:-9102}
rasa_metrics=(); action_metrics=()
for i in "${!rasa_ports[@]}"; do rasa_metrics+=($((METRICS_PORT + i))); done
for i in "${!action_ports[@]}"; do action_metrics+=($((METRICS_PORT + RASA_SERVERS + i))); done

$BIN/python -m deploy.nginx "$(cd "$RUN" && pwd)" "$RASA_PORT" \
  "$ACTIONS_PORT" "${rasa_ports[*]}" "${action_ports[*]}" > "$RUN/nginx.conf"

for i in "${!action_ports[@]}"; do
  IOM_METRICS_PORT=$((action_metrics[i] - 1)) \
    $BIN/rasa run actions --port "${action_ports[$i]}" > "$RUN/actions$i.log" 2>&1 &
  pids+=($!)
done

user=(); if [[ $EUID -eq 0 ]]; then user=("user root;"); fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx" -p "$(cd "$RUN" && pwd)" -c nginx.conf -e stderr -g "daemon off; ${user[*]}" > "$RUN/nginx.log" 2>&1 &
pids+=($!)
sleep 0.5
if ! kill -0 "${pids[-1]}" 2>/dev/null; then echo "nginx exited; see $RUN/nginx.log" >&2; exit 1; fi

for i in "${!action_ports[@]}"; do wait_for "http://127.0.0.1:${action_ports[$i]}/health" "actions$i" "${pids[$i]}"; done

api_args=()
# The token stays in the environment (server/rasa_cli.py reads it): never on a command line, where
# `ps` would show it to every user of the machine.
if [[ -n "${RASA_AUTH_TOKEN:-}" ]]; then export RASA_AUTH_TOKEN; api_args=(--enable-api); fi
start_rasa() {  # index
  IOM_METRICS_PORT=${rasa_metrics[$1]} $BIN/python -m server.rasa_cli run --model models/iom.tar.gz --endpoints deploy/endpoints.yml --credentials credentials.yml \
    --interface 127.0.0.1 --port "${rasa_ports[$1]}" "${api_args[@]}" > "$RUN/rasa$1.log" 2>&1 &
  pids+=($!)
}
# The first server creates the tables; the others start once it is up (never racing to create them).
echo "Starting ${RASA_SERVERS} Rasa server(s) on ports ${rasa_ports[*]} and ${ACTION_SERVERS} action server(s) on ${action_ports[*]} (logs: $RUN/)"
start_rasa 0
wait_for "http://127.0.0.1:${rasa_ports[0]}/" rasa0 "${pids[-1]}"
first=${#pids[@]}
for ((i = 1; i < RASA_SERVERS; i++)); do start_rasa "$i"; done
for ((i = 1; i < RASA_SERVERS; i++)); do wait_for "http://127.0.0.1:${rasa_ports[$i]}/" "rasa$i" "${pids[$((first + i - 1))]}"; done

$BIN/python -m privacy.purge --endpoints deploy/endpoints.yml --interval 86400 > "$RUN/purge.log" 2>&1 &
pids+=($!)

cat <<MSG

The IOM/OIM assistant runs as ${RASA_SERVERS} Rasa server(s) + ${ACTION_SERVERS} action server(s) behind nginx.
  Conversations: PostgreSQL ${DB_HOST}:${DB_PORT}/${DB_NAME}; locks: Redis ${REDIS_HOST}:${REDIS_PORT}.
  REST:   curl -s -XPOST http://127.0.0.1:${RASA_PORT}/webhooks/rest/webhook \\
            -H 'Content-Type: application/json' -d '{"sender":"me","message":"Qui est l OIM ?"}'
  nginx access log (which server answered): $RUN/access.log
  Ready: http://127.0.0.1:${RASA_PORT}/ready (any server ready), each server's http://127.0.0.1:PORT/ready
  Metrics (Prometheus, one port per process, on ${IOM_METRICS_HOST:-127.0.0.1}):
    Rasa servers ${rasa_ports[*]}: ${rasa_metrics[*]}
    action servers ${action_ports[*]}: ${action_metrics[*]}
  Old conversations are deleted once a day (IOM_RETENTION_DAYS=${IOM_RETENTION_DAYS:-90}; log: $RUN/purge.log).
Press Ctrl-C to stop. Stopping one Rasa server (kill its pid) leaves the others serving.
MSG
while true; do
  wait -n "${pids[@]}" || true
  alive=(); for pid in "${pids[@]}"; do if kill -0 "$pid" 2>/dev/null; then alive+=("$pid"); fi; done
  if ((${#alive[@]} == 0)); then break; fi
  if ((${#alive[@]} < ${#pids[@]})); then echo "A process exited (see $RUN/*.log); ${#alive[@]} still running."; fi
  pids=("${alive[@]}")
done
