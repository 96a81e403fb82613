"""`make run` (scripts/run.sh) says the assistant is running only when it can answer: a message
sent within 100 ms of the moment it prints its address is answered, not failed, every time.

scripts/run.sh starts both servers side by side and prints the chat page's and the REST address
once the Rasa server's /ready says the model is loaded and the action server answers it
(server/operations.py). Ten starts in a row, each on free ports with its own tracker database;
the first message of each is a fact question, whose answer needs the action server.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import time

import pytest

from actions.facts import FactStore
from tests.servers import ROOT, free_port, free_port_pair, http

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

RUNS = 10
QUESTION = "Où se trouve le siège de l'OIM ?"
EXPECTED = FactStore().current().text("headquarters", "short", "fr")
ADDRESS_LINE = "Chat page: http://"  # the first line of run.sh's "running" notice with an address


def read_until(process: subprocess.Popen, marker: str, timeout: float) -> str:
    """run.sh's output up to and including the line holding `marker` (returned as soon as that
    line is read)."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=0.5):
            if process.poll() is not None:
                break
            continue
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"scripts/run.sh never printed {marker!r}:\n{''.join(seen)[-3000:]}")


def one_start(folder) -> float:
    rasa_port = free_port()
    env = {
        **os.environ, "RASA_TELEMETRY_ENABLED": "false", "RASA_PORT": str(rasa_port),
        "ACTIONS_PORT": str(free_port()), "WEB_PORT": str(free_port()),
        "IOM_METRICS_PORT": str(free_port_pair()), "RUN_DIR": str(folder),
        "TRACKER_DB": str(folder / "tracker.db"),
    }
    env.pop("RASA_AUTH_TOKEN", None)
    process = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        read_until(process, ADDRESS_LINE, timeout=240)
        printed = time.monotonic()
        status, body = http("POST", f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
                            {"sender": "first-user", "message": QUESTION})
        answered_after = time.monotonic() - printed
        assert status == 200, (status, body[:300])
        replies = " ".join(r.get("text", "") for r in json.loads(body))
        assert EXPECTED in replies, f"first message not answered: {replies[:200]!r} (logs: {folder})"
        return answered_after
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stdout.close()


def test_a_message_sent_as_soon_as_run_prints_its_address_is_answered(tmp_path):
    took = []
    for run in range(RUNS):
        folder = tmp_path / f"run{run}"
        folder.mkdir()
        took.append(one_start(folder))
    print("first answers, seconds after the address was printed (sent at once):",
          [round(t, 2) for t in took])
