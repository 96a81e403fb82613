"""What each of server/'s replacements of Rasa internals is worth: `make bench-levers`.

Starts our action server and Rasa server (models/iom.tar.gz, the windowed SQLite store) once per
setting of IOM_PERF_PATCHES (server/__init__.py), loads it with 20 concurrent users (the same
conversations as bench/versus_stock.py) and prints, per setting, the Rasa server's CPU time per message
(user + system, from /proc: steadier than throughput on a shared machine), the throughput and the
p95 latency. The settings are run in alternating order over several rounds, and medians printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.versus_stock import BIN, OUR_CONVERSATIONS, ROOT, first_answer, load, spawn  # noqa: E402
from tests.processes import HOST, free_port, stop_process, wait_http  # noqa: E402

SETTINGS = ["none", "validation", "validation,session", "validation,runner", "all"]


def patches(setting: str) -> str:
    """IOM_PERF_PATCHES for a row: every row runs the lean server (server/lean.py: no TensorFlow
    loaded, which changes start-up and memory, not the work per message) and the action timeout
    and start wait (no work per message either), so that rows differ only by the replacements
    named."""
    base = "lean,timeout,start_wait"
    return "all" if setting == "all" else base if setting == "none" else f"{base},{setting}"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(setting: str, work: Path, actions_port: int, args: argparse.Namespace) -> Dict[str, float]:
    port = free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://{HOST}:{actions_port}/webhook"\n'
        "tracker_store:\n  type: server.tracker_store.WindowedSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {work / (setting.replace(',', '-') + '.db')}\n")
    (work / "credentials.yml").write_text("channels.rest.GuardedRestInput:\n")
    log = work / "rasa.log"
    rasa = spawn([str(BIN / "python"), "-m", "server.rasa_cli", "run", "--model",
                  str(ROOT / "models" / "iom.tar.gz"), "--endpoints", str(endpoints),
                  "--credentials", str(work / "credentials.yml"), "--interface", HOST,
                  "--port", str(port)], ROOT, log, {"IOM_PERF_PATCHES": patches(setting)})
    url = f"http://{HOST}:{port}"
    try:
        first_answer(url, rasa, time.monotonic(), log, "Bonjour")
        asyncio.run(load(url, OUR_CONVERSATIONS, 2, 1, 30, "warm", True))
        before = cpu_seconds(rasa.pid)
        result = asyncio.run(load(url, OUR_CONVERSATIONS, args.users, args.conversations, 120,
                                  setting, True))
        result["cpu_ms"] = 1000 * (cpu_seconds(rasa.pid) - before) / result["messages"]
        return result
    finally:
        stop_process(rasa)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=6, help="per user")
    parser.add_argument("--settings", nargs="+", default=SETTINGS)
    args = parser.parse_args()
    if not (ROOT / "models" / "iom.tar.gz").exists():
        print("models/iom.tar.gz is missing: run `make train` first", file=sys.stderr)
        return 1

    work = Path(tempfile.mkdtemp(prefix="iom-levers-"))
    actions_port = free_port()
    actions = spawn([str(BIN / "rasa"), "run", "actions", "--port", str(actions_port)], ROOT,
                    work / "actions.log")
    results: Dict[str, List[Dict[str, float]]] = {s: [] for s in args.settings}
    try:
        wait_http(f"http://{HOST}:{actions_port}/health", actions, work / "actions.log")
        for index in range(args.rounds):
            for setting in (args.settings if index % 2 == 0 else args.settings[::-1]):
                result = measure(setting, work, actions_port, args)
                results[setting].append(result)
                print(f"round {index + 1} {setting:20s} {result['cpu_ms']:5.1f} ms CPU/message, "
                      f"{result['throughput']:5.1f} msg/s, p95 {result['p95']:4.0f} ms", flush=True)
    finally:
        stop_process(actions)

    print(f"\n| IOM_PERF_PATCHES | Rasa CPU per message | throughput, {args.users} users | p95 |")
    print("|---|---:|---:|---:|")
    for setting, rows in results.items():
        cpu = statistics.median(r["cpu_ms"] for r in rows)
        thr = statistics.median(r["throughput"] for r in rows)
        p95 = statistics.median(r["p95"] for r in rows)
        print(f"| {setting} | {cpu:.1f} ms | {thr:.1f} msg/s | {p95:.0f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
