#!/usr/bin/env bash
# Starts PostgreSQL and Redis on 127.0.0.1 if they are not answering (idempotent: does nothing
# when both are up). tests/test_scaled.py and `make run-scaled` need them; `make test` calls this.
# Assumes the Debian packages as installed on the CI machines (postgresql cluster "main",
# redis-server); on other machines start your own and set DB_*/REDIS_* (see docs/operating.md,
# "Scaling out").
set -euo pipefail

if ! pg_isready -q -h 127.0.0.1 -p "${DB_PORT:-5432}" 2>/dev/null; then
  echo "Starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi

if ! redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" ping 2>/dev/null | grep -q PONG; then
  echo "Starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "${REDIS_PORT:-6379}" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "${DB_PORT:-5432}" \
     && redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" ping 2>/dev/null | grep -q PONG; then
    exit 0
  fi
  sleep 0.5
done
echo "PostgreSQL or Redis did not come up on 127.0.0.1" >&2
exit 1
