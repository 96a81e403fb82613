"""`make soak`: the assistant as `make run` starts it, under steady mixed traffic for a while.

Starts scripts/run.sh (what `make run` runs) on free ports with its own logs and tracker database
in a temporary folder (so it never touches yours), the per-sender limit off, then sends messages
at a steady rate from many senders: French and English hold-out questions and Spanish ones (the
Spanish must get an answer too, in whatever language). Each sender has one message in flight at
most, as a person. Latency is counted from the moment a message was due, so a server that falls
behind shows it. Every minute it prints the messages sent, the errors, latency p50/p95 and the
resident memory (RSS) of the Rasa server and of the action server.

It fails (exit 1) on any error (HTTP status other than 200, no reply, "temporarily unavailable",
a request that took over 30 s) or if either server's memory at the end is more than 10% above
what it was after the first two minutes (after the first minute for runs under 3 minutes).

Environment: SOAK_MINUTES (10), SOAK_RATE (messages/s; default `auto`: 70% of what this server
does now with 20 users answering as fast as they can, measured for 30 s first with the soak's own
messages, so that the rate fits the machine it runs on, quiet or shared; a number sets it),
SOAK_SENDERS (400).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.facts_file import message  # noqa: E402
from tests.processes import free_port, stop_process  # noqa: E402

MINUTES = float(os.environ.get("SOAK_MINUTES") or 10)
RATE_SETTING = (os.environ.get("SOAK_RATE") or "auto").strip().lower()
MEASURE_SECONDS, MEASURE_USERS = 30, 20
SENDERS = int(os.environ.get("SOAK_SENDERS") or 400)
TIMEOUT = 30.0
MAX_GROWTH = 0.10
SPANISH = [
    "Hola", "¿Qué es la OIM?", "¿Quién dirige la OIM?", "¿Dónde está la sede de la OIM?",
    "¿Cuántos Estados miembros tiene la OIM?", "¿Es México miembro de la OIM?",
    "¿Cómo puedo trabajar en la OIM?", "¿La OIM da visados?", "Gracias", "Adiós",
    "¿Qué hace la OIM contra la trata de personas?", "¿Qué es el Pacto Mundial para la Migración?",
]


def messages() -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {"fr": [], "en": [], "es": list(SPANISH)}
    for path in sorted((ROOT / "tests" / "nlu_holdout").glob("*.yml")):
        lang = path.name.split(".")[0]
        data = yaml.safe_load(path.read_text()) or {}
        for block in data.get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.setdefault(lang, []).append(
                        re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line[2:]))
    return found


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return float("nan")
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def children(pid: int) -> Dict[str, int]:
    """The action server and the Rasa server started by run.sh (its direct children)."""
    found: Dict[str, int] = {}
    for child in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                text=True).stdout.split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        if "run actions" in cmdline:
            found["actions"] = int(child)
        elif "server.rasa_cli run" in cmdline:
            found["rasa"] = int(child)
    return found


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Minute:
    def __init__(self) -> None:
        self.latencies: List[float] = []
        self.errors: List[str] = []


async def soak(url: str, pids: Dict[str, int]) -> int:
    texts = messages()
    mix = [("fr", 0.45), ("en", 0.40), ("es", 0.15)]
    unavailable = {message("unavailable", lang) for lang in ("fr", "en", "es")}
    rng = random.Random(11)
    idle = deque(f"soak-{i}-{rng.getrandbits(32):08x}" for i in range(SENDERS))
    minutes = [Minute() for _ in range(int(MINUTES + 0.999))]
    started = time.monotonic()
    total_seconds = MINUTES * 60
    tasks = set()

    async def one(session: aiohttp.ClientSession, sender: str, text: str, due: float) -> None:
        minute = minutes[min(int((due - started) // 60), len(minutes) - 1)]
        problem: Optional[str] = None
        try:
            async with session.post(url, json={"sender": sender, "message": text}) as reply:
                body = await reply.text()
                if reply.status != 200:
                    problem = f"HTTP {reply.status}: {body[:120]}"
                else:
                    answers = [m.get("text", "") for m in json.loads(body)]
                    if not any(answers):
                        problem = "no reply"
                    elif unavailable & set(answers):
                        problem = "temporarily unavailable"
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            problem = f"{type(error).__name__}: {error}"
        elapsed = time.monotonic() - due
        minute.latencies.append(elapsed)
        if problem:
            minute.errors.append(f"{sender} {text!r}: {problem}")
        idle.append(sender)

    # Warm-up, not counted: the action server loads its language models on its first calls,
    # which on a busy machine can take longer than IOM_ACTION_TIMEOUT.
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        for text in ("Bonjour", "Who leads IOM?", "¿Qué es la OIM?"):
            for _ in range(30):
                async with session.post(url, json={"sender": "soak-warm-up", "message": text}) as r:
                    answers = {m.get("text", "") for m in await r.json()} if r.status == 200 else set()
                if answers and not unavailable & answers:
                    break
                await asyncio.sleep(2)
        if RATE_SETTING == "auto":
            throughput = await measure(session, url, texts, rng)
            rate = round(0.7 * throughput, 1)
            print(f"Throughput now, {MEASURE_USERS} users for {MEASURE_SECONDS} s: "
                  f"{throughput:.1f} messages/s (load average {os.getloadavg()[0]:.1f}); "
                  f"soaking at 70%: {rate:g}/s", flush=True)
        else:
            rate = float(RATE_SETTING)
    started = time.monotonic()
    print(f"Soak: {MINUTES:g} min at {rate:g} messages/s from {SENDERS} senders "
          f"(fr 45%, en 40%, es 15%) against {url}", flush=True)
    print("minute  sent  errors  p50_ms  p95_ms  rasa_MB  actions_MB  load", flush=True)
    rss = {name: [] for name in pids}
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        n = 0
        reported = 0
        while True:
            due = started + n / rate
            now = time.monotonic()
            if due - started >= total_seconds:
                break
            if due > now:
                await asyncio.sleep(due - now)
            if idle:
                sender = idle.popleft()
                lang = rng.choices([m[0] for m in mix], [m[1] for m in mix])[0]
                task = asyncio.create_task(one(session, sender, rng.choice(texts[lang]), due))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            else:  # every sender is waiting for an answer: the server is far behind
                minutes[min(int((due - started) // 60), len(minutes) - 1)].errors.append(
                    "no idle sender: more than SOAK_SENDERS messages in flight")
            n += 1
            elapsed_minutes = int((time.monotonic() - started) // 60)
            while reported < min(elapsed_minutes, len(minutes)):
                report(reported, minutes[reported], pids, rss)
                reported += 1
        if tasks:
            await asyncio.wait(tasks, timeout=TIMEOUT + 5)
        while reported < len(minutes):
            report(reported, minutes[reported], pids, rss)
            reported += 1

    errors = [e for m in minutes for e in m.errors]
    base = 2 if len(minutes) >= 3 else 1
    growth = {name: (values[-1] / values[base - 1] - 1) for name, values in rss.items()
              if len(values) >= base}
    latencies = [v for m in minutes for v in m.latencies]
    print(f"\n{len(latencies)} messages in {MINUTES:g} min ({len(latencies) / total_seconds:.1f}/s), "
          f"{len(errors)} errors, p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms; memory after minute {base} -> end: "
          + ", ".join(f"{name} {rss[name][base - 1]:.0f} -> {rss[name][-1]:.0f} MB "
                      f"({growth[name] * 100:+.1f}%)" for name in growth))
    for line in errors[:20]:
        print("  error:", line)
    failed = bool(errors) or any(g > MAX_GROWTH for g in growth.values())
    print("SOAK FAILED" if failed else "SOAK PASSED")
    return 1 if failed else 0


async def measure(session: aiohttp.ClientSession, url: str, texts: Dict[str, List[str]],
                  rng: random.Random) -> float:
    """Messages/s answered by MEASURE_USERS senders sending one after another, as fast as they
    are answered (what `make bench` calls throughput with 20 users)."""
    pool = texts["fr"] + texts["en"] + texts["es"]
    deadline = time.monotonic() + MEASURE_SECONDS
    answered = [0]

    async def user(number: int) -> None:
        while time.monotonic() < deadline:
            body = {"sender": f"soak-measure-{number}", "message": rng.choice(pool)}
            async with session.post(url, json=body) as reply:
                await reply.read()
                answered[0] += reply.status == 200

    await asyncio.gather(*(user(n) for n in range(MEASURE_USERS)))
    return answered[0] / MEASURE_SECONDS


def report(index: int, minute: Minute, pids: Dict[str, int], rss: Dict[str, List[float]]) -> None:
    for name, pid in pids.items():
        rss[name].append(rss_mb(pid))
    values = minute.latencies or [float("nan")]
    print(f"{index + 1:>6}  {len(minute.latencies):>4}  {len(minute.errors):>6}  "
          f"{statistics.median(values) * 1000:>6.0f}  {percentile(values, 0.95) * 1000:>6.0f}  "
          f"{rss.get('rasa', [float('nan')])[-1]:>7.0f}  {rss.get('actions', [float('nan')])[-1]:>10.0f}"
          f"  {os.getloadavg()[0]:.1f}", flush=True)


def main() -> int:
    # Stopped with SIGTERM (or Ctrl-C): still stop the servers it started (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="iom-soak-"))
    rasa_port, actions_port, web_port = free_port(), free_port(), free_port()
    env = {**os.environ, "RASA_PORT": str(rasa_port), "ACTIONS_PORT": str(actions_port),
           "WEB_PORT": str(web_port), "RUN_DIR": str(workdir), "IOM_RATE_LIMIT": "off",
           "IOM_ADDRESS_RATE_LIMIT": "off", "IOM_NEW_CONVERSATION_LIMIT": "off",
           "TRACKER_DB": str(workdir / "tracker.db"), "RASA_TELEMETRY_ENABLED": "false"}
    print(f"Starting the assistant as `make run` does (logs: {workdir})", flush=True)
    run = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env,
                           stdout=open(workdir / "run.out", "wb"), stderr=subprocess.STDOUT,
                           start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while b"is running" not in (workdir / "run.out").read_bytes():
            if run.poll() is not None or time.monotonic() > deadline:
                print((workdir / "run.out").read_text(), file=sys.stderr)
                return 1
            time.sleep(0.5)
        pids = children(run.pid)
        if set(pids) != {"rasa", "actions"}:
            print(f"could not find both servers under run.sh: {pids}", file=sys.stderr)
            return 1
        return asyncio.run(soak(f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook", pids))
    finally:
        stop_process(run, grace=30)


if __name__ == "__main__":
    sys.exit(main())
