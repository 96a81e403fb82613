"""A rotating-sender flood from one address against a normal user from another:
`python -m bench.address_flood [--seconds 20] [--parallel 32] [--compare] [--senders N]`.

Starts the real Rasa and action servers (tests/servers.py Stack, REST channel) with the
per-address limits at their defaults (throttle/), then from 127.0.0.2 a normal user asks one
question after another (their own sender id), first alone ("quiet"), then while 32 parallel
clients on 127.0.0.1 send as fast as they can, each request with a new sender id (the flood of
issue 21). Prints the normal user's latency (p50, p95) in both phases and their ratio, how much of
the flood was refused, and how many conversations the tracker store gained. `--compare` runs the
same with the per-address limits off (the assistant before them), for the figures side by side.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from tests.servers import Stack

QUESTION = "Where is the headquarters of IOM?"
NORMAL_ADDRESS = "127.0.0.2"  # the quiet phase; during the flood 127.0.0.3 (a person at the
# pace of this script, 35 messages in a few seconds, would reach the per-address limit itself)
FLOOD_ADDRESS = "127.0.0.1"


class Client:
    """Keeps one HTTP connection from a chosen source address (loopback: any 127.x works)."""

    def __init__(self, port: int, source: str) -> None:
        self.port, self.source = port, source
        self.connection: Optional[http.client.HTTPConnection] = None

    def post(self, sender: str, text: str) -> Tuple[int, float]:
        body = json.dumps({"sender": sender, "message": text})
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=60, source_address=(self.source, 0))
            started = time.perf_counter()
            try:
                self.connection.request("POST", "/webhooks/rest/webhook", body,
                                        {"Content-Type": "application/json"})
                reply = self.connection.getresponse()
                reply.read()
                if reply.getheader("connection", "").lower() == "close":
                    self.connection.close()
                    self.connection = None
                return reply.status, time.perf_counter() - started
            except (ConnectionError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def conversations(db: Path, like: str = "%") -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT COUNT(DISTINCT sender_id) FROM events WHERE sender_id "
                                  "LIKE ?", (like,)).fetchone()[0]


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def normal_user(port: int, count: int, pause: float, sender: str,
                address: str = NORMAL_ADDRESS) -> List[float]:
    client, latencies = Client(port, address), []
    for _ in range(count):
        status, seconds = client.post(sender, QUESTION)
        assert status == 200, status
        latencies.append(seconds)
        time.sleep(pause)
    return latencies


def flood(port: int, parallel: int, stop: threading.Event, limit: int,
          senders: int = 0) -> Dict[int, int]:
    """`senders` 0: a new sender id on every request; N: N ids taken in turn."""
    statuses: Dict[int, int] = {}
    lock = threading.Lock()
    sent = [0]
    ids = [f"flood-{uuid.uuid4().hex}" for _ in range(senders)]

    def worker() -> None:
        client = Client(port, FLOOD_ADDRESS)
        while not stop.is_set():
            with lock:
                if sent[0] >= limit:
                    return
                sent[0] += 1
            sender = ids[sent[0] % senders] if senders else f"flood-{uuid.uuid4().hex}"
            status, _ = client.post(sender, QUESTION)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    with ThreadPoolExecutor(parallel) as pool:
        for future in [pool.submit(worker) for _ in range(parallel)]:
            future.result()
    return statuses


def measure(stack: Stack, seconds: float, parallel: int, normal_count: int,
            senders: int = 0) -> Dict[str, float]:
    port = stack.rasa_port
    # One sender per phase: each stays within the per-sender limit (40/30s).
    normal_user(port, 5, 0.05, f"normal-{uuid.uuid4().hex[:8]}")  # warm up
    quiet = normal_user(port, normal_count, 0.05, f"normal-{uuid.uuid4().hex[:8]}")
    stop = threading.Event()
    result: Dict[int, int] = {}
    runner = threading.Thread(
        target=lambda: result.update(flood(port, parallel, stop, 100_000, senders)))
    started = time.monotonic()
    runner.start()
    time.sleep(1.0)  # the flood at full speed first
    during = normal_user(port, normal_count, 0.05, f"normal-{uuid.uuid4().hex[:8]}", "127.0.0.3")
    while time.monotonic() - started < seconds:
        time.sleep(0.1)
    stop.set()
    runner.join()
    elapsed = time.monotonic() - started
    total = sum(result.values())
    return {
        "quiet_p50": statistics.median(quiet), "quiet_p95": percentile(quiet, 0.95),
        "flood_p50": statistics.median(during), "flood_p95": percentile(during, 0.95),
        "flood_sent": total, "flood_refused": result.get(429, 0),
        "flood_answered": result.get(200, 0), "flood_rate": total / elapsed,
        "new_conversations": conversations(stack.tracker_db, "flood-%"),
    }


def run(limits: bool, seconds: float, parallel: int, normal_count: int,
        senders: int = 0) -> Dict[str, float]:
    env = {} if limits else {"IOM_ADDRESS_RATE_LIMIT": "off", "IOM_NEW_CONVERSATION_LIMIT": "off"}
    # Empty = the defaults of throttle/ (tests/servers.py turns them off unless told).
    env = {"IOM_ADDRESS_RATE_LIMIT": "", "IOM_NEW_CONVERSATION_LIMIT": "", **env}
    with tempfile.TemporaryDirectory(prefix="iom-flood-") as workdir:
        stack = Stack(Path(workdir), env=env).start()
        try:
            return measure(stack, seconds, parallel, normal_count, senders)
        finally:
            stack.stop()


def report(name: str, figures: Dict[str, float]) -> None:
    print(f"\n{name}")
    print(f"  normal user (127.0.0.2, then .3), quiet: p50 {figures['quiet_p50'] * 1000:6.0f} ms, "
          f"p95 {figures['quiet_p95'] * 1000:6.0f} ms")
    print(f"  normal user during the flood:      p50 {figures['flood_p50'] * 1000:6.0f} ms, "
          f"p95 {figures['flood_p95'] * 1000:6.0f} ms  ({figures['flood_p95'] / figures['quiet_p95']:.1f}x quiet p95)")
    print(f"  flood (from {FLOOD_ADDRESS}): {figures['flood_sent']:.0f} requests, "
          f"{figures['flood_rate']:.0f}/s; refused {figures['flood_refused']:.0f} "
          f"({figures['flood_refused'] / max(1, figures['flood_sent']):.1%}), answered "
          f"{figures['flood_answered']:.0f}")
    print(f"  conversations stored from the flood: {figures['new_conversations']:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--parallel", type=int, default=32)
    parser.add_argument("--normal", type=int, default=35,
                        help="normal user's messages per phase (within the per-sender limit)")
    parser.add_argument("--compare", action="store_true", help="also run with the limits off")
    parser.add_argument("--senders", type=int, default=0,
                        help="the flood takes N sender ids in turn (0: a new one per request); "
                             "N within the new-conversation limit shows the message limit at work")
    args = parser.parse_args()
    how = f"{args.senders} sender ids in turn" if args.senders else "a new sender id each request"
    report(f"Per-address limits at their defaults; flood: {how}",
           run(True, args.seconds, args.parallel, args.normal, args.senders))
    if args.compare:
        report(f"Per-address limits off (as before issue 21); flood: {how}",
               run(False, args.seconds, args.parallel, args.normal, args.senders))


if __name__ == "__main__":
    main()
