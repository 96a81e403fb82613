"""Throughput of the assistant with 1 and 2 Rasa server processes behind nginx (`make bench-scaled`).

Runs the same set-up as tests/test_scaled.py (tests/cluster.py: deploy/endpoints.yml with
PostgreSQL + Redis, deploy/nginx.conf, one action server, a throw-away database), then for each
server count sends REST messages through nginx from BENCH_CLIENTS concurrent clients for
BENCH_SECONDS (each client starts a new conversation every 5 messages, so trackers stay short)
and prints a table. Everything runs on this machine, load generator included: the figures say
how the set-up behaves on it, not what a fleet of machines would do.

Environment: BENCH_SECONDS (30), BENCH_CLIENTS (8), BENCH_SERVERS ("1,2"), plus DB_*/REDIS_*.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cluster import Cluster  # noqa: E402

QUESTIONS = [
    "Where is the headquarters of IOM?",
    "Qui dirige l'OIM ?",
    "What does IOM do?",
    "Combien d'États membres compte l'OIM ?",
    "hello",
]
TURNS_PER_CONVERSATION = 5


def load(cluster: Cluster, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < stop_at:
            sender = f"bench-{uuid.uuid4().hex[:10]}"
            for text in QUESTIONS[:TURNS_PER_CONVERSATION]:
                if time.monotonic() >= stop_at:
                    return
                started = time.monotonic()
                status, replies = cluster.say(sender, text)
                elapsed = time.monotonic() - started
                with lock:
                    if status == 200 and replies:
                        latencies.append(elapsed)
                    else:
                        errors[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    latencies.sort()
    return {
        "messages": len(latencies),
        "errors": errors[0],
        "per_second": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p95": latencies[int(0.95 * (len(latencies) - 1))] * 1000 if latencies else float("nan"),
    }


def main() -> int:
    seconds = float(os.environ.get("BENCH_SECONDS", "30"))
    clients = int(os.environ.get("BENCH_CLIENTS", "8"))
    counts = [int(n) for n in os.environ.get("BENCH_SERVERS", "1,2").split(",")]
    rows = []
    for count in counts:
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-scaled-{count}-"))
        print(f"Starting {count} Rasa server(s) behind nginx (logs: {workdir}) ...", flush=True)
        # Load from one address, many messages per conversation: both limits off.
        with Cluster(workdir, rasa_servers=count, action_servers=1, address_limit=False,
                     env={"IOM_RATE_LIMIT": "off"}) as cluster:
            load(cluster, clients, min(5.0, seconds))  # warm-up, not counted
            result = load(cluster, clients, seconds)
        rows.append((count, result))
        print(f"  {result['messages']} messages in {seconds:.0f} s, {result['errors']} errors", flush=True)

    print()
    print(f"{clients} concurrent clients, {seconds:.0f} s per run, {os.cpu_count()} CPU cores "
          "(load generator, nginx, PostgreSQL, Redis and the action server on the same machine)")
    print()
    print("| Rasa servers | messages/s | p50 latency (ms) | p95 latency (ms) | errors |")
    print("|---:|---:|---:|---:|---:|")
    for count, r in rows:
        print(f"| {count} | {r['per_second']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['errors']} |")
    return 1 if any(r["errors"] for _, r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
