"""The terminal chat (`make shell`) passes through the guard like every other channel.

Starts `scripts/run.sh --shell` (what `make shell` runs) in a pseudo-terminal with its own ports,
logs and tracker database, types a message holding a phone number and an e-mail address, waits
for the answer on the screen, quits with /stop, and reads the tracker store (SQLite) and the
logs: the message is there redacted, and the personal data nowhere.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import sqlite3
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from tests.processes import free_port
from tests.servers import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

MESSAGE = "Bonjour, je suis bloqué à Tripoli, mon numéro est 06 12 34 56 78 et mon mail awa.diop@gmail.com"
SECRETS = ["06 12 34 56 78", "0612345678", "awa.diop@gmail.com"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _read_until(fd: int, pattern: str, seen: list, timeout: float, times: int = 1) -> str:
    """Reads the terminal until `pattern` has appeared `times` times; returns the screen text."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen.append(os.read(fd, 65536).decode("utf-8", "replace"))
            except OSError:
                break
        screen = ANSI.sub("", "".join(seen)).replace("\r", "")
        if len(re.findall(pattern, screen)) >= times:
            return screen
    raise AssertionError(f"{pattern!r} not on the screen within {timeout} s:\n{ANSI.sub('', ''.join(seen))[-3000:]}")


def test_what_is_typed_in_the_terminal_chat_is_stored_redacted(tmp_path: Path):
    env = {**os.environ, "RUN_DIR": str(tmp_path), "TRACKER_DB": str(tmp_path / "tracker.db"),
           "ACTIONS_PORT": str(free_port()), "SHELL_PORT": str(free_port()), "TERM": "xterm",
           "COLUMNS": "2000", "LINES": "50"}
    leader, follower = pty.openpty()
    # A terminal wide enough that the console's prompt library does not wrap the answer (a fresh
    # pseudo-terminal has no size, and a wrap could cut a word the test looks for).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 2000, 0, 0))
    process = subprocess.Popen(["scripts/run.sh", "--shell"], cwd=ROOT, env=env, stdin=follower,
                               stdout=follower, stderr=follower, start_new_session=True)
    os.close(follower)
    seen: list = []
    try:
        _read_until(leader, r"Your input ->", seen, 120)
        os.write(leader, MESSAGE.encode() + b"\r")
        # The answer, with its buttons as a pick list (personal help: the IOM office, no data).
        screen = _read_until(leader, r"\(/ask_[a-z_]+\)", seen, 60)
        answer = screen.split("Your input ->")[-1].replace("\n", " ")
        assert "https://www.iom.int/country-offices" in answer, answer
        os.write(leader, b"\x1b[B\x1b[B\x1b[B\r")  # "Type out your own message..."
        _read_until(leader, r"Your input ->", seen, 30, times=2)
        os.write(leader, b"/stop\r")
        process.wait(60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)
        os.close(leader)

    with sqlite3.connect(tmp_path / "tracker.db") as connection:
        rows = connection.execute("SELECT type_name, data FROM events").fetchall()
    users = [json.loads(data) for kind, data in rows if kind == "user"]
    assert [u["text"] for u in users] == [
        "Bonjour, je suis bloqué à Tripoli, mon numéro est [phone] et mon mail [email]"]
    assert users[0]["input_channel"] == "cmdline"
    stored = "\n".join(data for _, data in rows)
    logs = "\n".join(p.read_text(errors="replace") for p in tmp_path.glob("*.log"))
    assert [s for s in SECRETS if s in stored or s in logs] == []
