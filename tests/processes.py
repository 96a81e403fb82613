"""Ports and processes for the tests and the benchmarks, in one place: a free loopback port, waiting
until a started server answers (or saying why it never will), and stopping a process group.

The tests (tests/servers.py, tests/cluster.py, ...) and the benchmarks (bench/) import these; the
project's runtime code never does.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

HOST = "127.0.0.1"


_given: set = set()


def _ephemeral_range() -> tuple:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on now, below the kernel's ephemeral range, never given twice by
    this process.

    Not the kernel's choice (binding port 0): that is an ephemeral port, which the kernel may hand
    to any outgoing connection (an HTTP client, a database connection) between this call and the
    server's bind, so the server would fail with "address already in use" now and then. Ports
    below the ephemeral range are never given to outgoing connections."""
    low = max(1024, min(_ephemeral_range()[0], 65536) - 12000)
    high = min(_ephemeral_range()[0], 65536) - 1
    for _ in range(500):
        port = random.randint(low, high)
        if port in _given:
            continue
        try:
            with socket.socket() as sock:
                sock.bind((host, port))
        except OSError:
            continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free port between {low} and {high}")


def free_port_pair(host: str = HOST) -> int:
    """A free port whose next port is free too: IOM_METRICS_PORT for a Rasa server (that port)
    and its action server (the next one)."""
    for _ in range(50):
        first = free_port(host)
        if first + 1 in _given:
            continue
        try:
            with socket.socket() as sock:
                sock.bind((host, first + 1))
        except OSError:
            continue
        _given.add(first + 1)
        return first
    raise RuntimeError("no two consecutive free ports")


def _exited(process: subprocess.Popen, log: Path) -> RuntimeError:
    return RuntimeError(f"{process.args[:3]} exited ({process.returncode}):\n{_tail(log)}")


def _tail(log: Path, size: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-size:]
    except OSError:
        return f"(no log at {log})"


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 180,
              poll: float = 0.3) -> None:
    """Returns once `url` answers a GET (any 2xx); raises with the end of `log` when `process` exits
    first or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise _exited(process, log)
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(poll)
    raise RuntimeError(f"{url} not up after {timeout}s:\n{_tail(log)}")


def wait_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30,
              host: str = HOST, poll: float = 0.2) -> None:
    """Returns once something accepts TCP connections on `port` (a server that speaks no HTTP
    there, or whose `/` is not an answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise _exited(process, log)
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(poll)
    raise RuntimeError(f"port {port} not open after {timeout}s:\n{_tail(log)}")


def stop_process(process: Optional[subprocess.Popen], sig: int = signal.SIGTERM, grace: float = 20) -> None:
    """Sends `sig` to the process group of `process` (started with `start_new_session=True`), waits
    up to `grace` seconds, then kills the group."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
