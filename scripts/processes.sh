# Shared by run.sh and run_scaled.sh (sourced): the processes a script starts, stopped together
# on exit, and a wait for each to answer. The sourcing script sets LOG_DIR (where <name>.log is)
# and may set WAIT_SECONDS (default 120).
pids=()
# `jobs -p` too: a stop that arrives between `cmd &` and `pids+=($!)` (bash runs the trap between
# the two) would otherwise leave that process running and the `wait` below waiting for it forever.
cleanup() { for pid in "${pids[@]}" $(jobs -p); do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
# Ctrl-C or a TERM ends the script (then the EXIT trap stops everything). A trap that only ran
# cleanup would let the script go on and start the next server after the stop (seen when a stop
# came during start-up: `make run` then never exited).
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() {  # url, name, pid: wait until url answers; fail if the process exits first
  local steps=$(( ${WAIT_SECONDS:-120} * 2 ))
  for _ in $(seq 1 "$steps"); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then echo "$2 exited; see ${LOG_DIR}/$2.log" >&2; exit 1; fi
    sleep 0.5
  done
  echo "$2 did not start within ${WAIT_SECONDS:-120} s; see ${LOG_DIR}/$2.log" >&2
  exit 1
}
