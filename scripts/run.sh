#!/usr/bin/env bash
# Starts the assistant: action server and Rasa server side by side (REST channel and every channel
# in credentials.yml), then the chat page. `make run` calls this after install and training.
# --shell chats in the terminal instead of serving HTTP.
#
# Environment (all optional):
#   RASA_PORT (5005)  ACTIONS_PORT (5055)  RASA_HOST (127.0.0.1)
#   RASA_AUTH_TOKEN   enables Rasa's HTTP API, protected by this token (off when unset)
#   IOM_ACTION_TOKEN  the secret between the Rasa server and the action server (default: a
#                     random one per run)
#   WEB_PORT (8080)  WEB_HOST (127.0.0.1)   the chat page (web/server.py)
#   IOM_ALLOWED_ORIGINS  comma-separated origins whose pages may use the socket.io and REST
#                        channels (default: the chat page's own, http://127.0.0.1:WEB_PORT and
#                        http://localhost:WEB_PORT); never '*'
#   IOM_METRICS_PORT (9102)  Prometheus metrics of the Rasa server; the action server's on the
#                        next port (docs/operating.md, "Monitoring"); IOM_METRICS_HOST (127.0.0.1)
#   IOM_RETENTION_DAYS (90)  conversations with no message for that long are deleted (daily)
#   RUN_DIR (run)  TRACKER_DB (tracker.db)   where this run's logs go and its conversations are
#                        kept (bench/soak.py runs a separate copy next to yours)
set -euo pipefail
cd "$(dirname "$0")/.."

RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
RASA_HOST=${RASA_HOST:-127.0.0.1}
WEB_PORT=${WEB_PORT:-8080}
WEB_HOST=${WEB_HOST:-127.0.0.1}
export IOM_METRICS_PORT=${IOM_METRICS_PORT:-9102}
# Browsers may call the socket.io channel (checked by channels/socketio.py) and the REST channel
# (Rasa's --cors) only from these origins.
export IOM_ALLOWED_ORIGINS=${IOM_ALLOWED_ORIGINS:-http://127.0.0.1:${WEB_PORT},http://localhost:${WEB_PORT}}
if [[ ",${IOM_ALLOWED_ORIGINS}," == *",*,"* ]]; then echo "IOM_ALLOWED_ORIGINS must list origins, not '*'" >&2; exit 1; fi
IFS=',' read -r -a cors_args <<< "${IOM_ALLOWED_ORIGINS// /}"
BIN=.venv/bin
RUN=${RUN_DIR:-run}
TRACKER_DB=${TRACKER_DB:-tracker.db}
mkdir -p "$RUN"

LOG_DIR=$RUN
source scripts/processes.sh

# The secret the Rasa server sends with every action call and the action server requires
# (server/action_token.py): a new random one for this run unless one is set.
export IOM_ACTION_TOKEN=${IOM_ACTION_TOKEN:-$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(32))')}

# The endpoints file points at this run's action server port; the tracker store stays the
# SQLite file of endpoints.yml (or TRACKER_DB), so conversations survive restarts.
sed -e "s#http://127.0.0.1:5055/webhook#http://127.0.0.1:${ACTIONS_PORT}/webhook#" \
    -e "s#^  db: tracker.db\$#  db: ${TRACKER_DB}#" endpoints.yml > "$RUN/endpoints.yml"

# Retention (docs/privacy.md): conversations with no message in the last IOM_RETENTION_DAYS days
# (default 90) are deleted now (a wrong setting stops here), then once a day while this runs.
$BIN/python -m privacy.purge --endpoints "$RUN/endpoints.yml"

echo "Starting the action server on 127.0.0.1:${ACTIONS_PORT} (log: $RUN/actions.log)"
# rasa-sdk binds to 0.0.0.0 unless SANIC_HOST says otherwise; Rasa is its only client.
SANIC_HOST=127.0.0.1 $BIN/rasa run actions --port "$ACTIONS_PORT" > "$RUN/actions.log" 2>&1 &
pids+=($!)
actions_pid=$!

if [[ "${1:-}" == "--shell" ]]; then
  wait_for "http://127.0.0.1:${ACTIONS_PORT}/health" actions "$actions_pid"
  echo "Chat in the terminal (French, English or Spanish). After an answer with buttons, pick one"
  echo "with the arrow keys or choose 'Type out your own message...'. Type /stop to quit."
  # The shell's own server binds to loopback, one port above the REST default so both can run.
  # Rasa's console, served by our guarded channel (channels/console.py): what is typed here is
  # redacted and limited like on every other channel before anything stores it.
  PYTHONWARNINGS=ignore $BIN/python -m server.rasa_cli run --connector channels.console.GuardedCmdlineInput \
    --model models/iom.tar.gz --endpoints "$RUN/endpoints.yml" \
    --interface 127.0.0.1 --port "${SHELL_PORT:-5006}" 2> >(grep -vE "Warning|warn\(|declare_namespace|^\s*$" >&2)
  exit 0
fi

api_args=()
# The token stays in the environment (server/rasa_cli.py reads it): never on a command line, where
# `ps` would show it to every user of the machine.
if [[ -n "${RASA_AUTH_TOKEN:-}" ]]; then export RASA_AUTH_TOKEN; api_args=(--enable-api); fi

# Side by side with the action server (about 1.5 s each): a message that reaches the Rasa server
# before the action server listens is held until it does (server/action_start.py), not answered
# "temporarily unavailable". Without that replacement (IOM_PERF_PATCHES=0, or a list that leaves
# out start_wait: Rasa's own behaviour), the Rasa server starts once the action server answers.
patches=$(tr -d ' ' <<< "${IOM_PERF_PATCHES:-all}" | tr '[:upper:]' '[:lower:]')
if [[ -n "$patches" && "$patches" != all && "$patches" != 1 && ",$patches," != *,start_wait,* ]]; then
  wait_for "http://127.0.0.1:${ACTIONS_PORT}/health" actions "$actions_pid"
fi
echo "Starting the Rasa server on ${RASA_HOST}:${RASA_PORT} (log: $RUN/rasa.log)"
$BIN/python -m server.rasa_cli run --model models/iom.tar.gz --endpoints "$RUN/endpoints.yml" --credentials credentials.yml \
  --interface "$RASA_HOST" --port "$RASA_PORT" "${api_args[@]}" --cors "${cors_args[@]}" > "$RUN/rasa.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${ACTIONS_PORT}/health" actions "$actions_pid"
# Ready: model loaded and the action server answering it (server/operations.py).
wait_for "http://127.0.0.1:${RASA_PORT}/ready" rasa "${pids[-1]}"

$BIN/python -m privacy.purge --endpoints "$RUN/endpoints.yml" --interval 86400 > "$RUN/purge.log" 2>&1 &
pids+=($!)

echo "Starting the chat page on ${WEB_HOST}:${WEB_PORT} (log: $RUN/web.log)"
RASA_PORT="$RASA_PORT" $BIN/python web/server.py --host "$WEB_HOST" --port "$WEB_PORT" > "$RUN/web.log" 2>&1 &
pids+=($!)
wait_for "http://${WEB_HOST}:${WEB_PORT}/health" web "${pids[-1]}"

metrics="metrics: off (IOM_METRICS_PORT=off)"
if [[ "$IOM_METRICS_PORT" =~ ^[0-9]+$ ]]; then
  metrics="metrics (Prometheus): http://${IOM_METRICS_HOST:-127.0.0.1}:${IOM_METRICS_PORT}/metrics (Rasa server)
            and :$((IOM_METRICS_PORT + 1))/metrics (action server)"
fi
cat <<MSG

The IOM/OIM assistant is running.
  Chat page: http://${WEB_HOST}:${WEB_PORT}/   (browsers allowed from: ${IOM_ALLOWED_ORIGINS})
  REST:   curl -s -XPOST http://127.0.0.1:${RASA_PORT}/webhooks/rest/webhook \\
            -H 'Content-Type: application/json' -d '{"sender":"me","message":"Qui est l OIM ?"}'
  Terminal chat: make shell
  Operating it: http://127.0.0.1:${RASA_PORT}/ready and /live; ${metrics}
  Old conversations are deleted once a day (IOM_RETENTION_DAYS=${IOM_RETENTION_DAYS:-90}; log: $RUN/purge.log).
MSG
# Telegram / WhatsApp are enabled by their environment variables
# (docs/operating.md: "Connect to ...").
if [[ -n "${TELEGRAM_TOKEN:-}" ]]; then echo "  Telegram: POST /webhooks/telegram/webhook (enabled)"; else echo "  Telegram: off (set TELEGRAM_TOKEN)"; fi
if [[ -n "${TWILIO_AUTH_TOKEN:-}" ]]; then echo "  WhatsApp: POST /webhooks/whatsapp/webhook (enabled)"; else echo "  WhatsApp: off (set TWILIO_*)"; fi
echo "Press Ctrl-C to stop."
wait -n "${pids[@]}"
