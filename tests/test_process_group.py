"""scripts/processes.sh, shared by `make run` and `make run-scaled`: a stop (Ctrl-C, TERM) that
arrives while the script is still starting servers ends the script and every server it started;
nothing is left running and nothing is started after the stop."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time

import pytest

from tests.servers import ROOT

# What run.sh does, with `sleep` for servers: start one, wait (here the stop arrives), start the
# next one, then wait for any to exit.
SCRIPT = textwrap.dedent("""\
    set -euo pipefail
    LOG_DIR=.
    source scripts/processes.sh
    sleep 1000 &
    pids+=($!)
    echo started-first
    sleep 3
    sleep 1001 &
    pids+=($!)
    echo started-second
    wait -n "${pids[@]}"
""")


def sleepers(pattern: str) -> list:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return found.split()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_during_start_up_ends_everything(stop):
    process = subprocess.Popen(["bash", "-c", SCRIPT], cwd=ROOT, stdout=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        assert process.stdout.readline().strip() == "started-first"
        # Ctrl-C reaches the whole foreground group (background jobs ignore SIGINT); TERM, as
        # `make bench-start` and service managers send it, too.
        os.killpg(process.pid, stop)
        rest = process.communicate(timeout=20)[0]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode != 0
    assert "started-second" not in rest  # nothing started after the stop
    time.sleep(0.2)
    assert sleepers("^sleep 100[01]$") == []
