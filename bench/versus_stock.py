"""Benchmark: a stock `rasa init` bot against our assistant, side by side, in one run.

`make bench` runs this. On 127.0.0.1 only:
1. stock bot: `rasa init --no-prompt` in a temporary folder (copies the example project and trains
   its default TensorFlow pipeline);
2. ours: full training of this project into a temporary folder (empty Rasa cache) the way
   `make train` does (`python -m server.rasa_cli train`), hold-out accuracy of that model
   (tests/tools/evaluate_holdout.py);
3. both servers are started one after the other (stock `rasa run`; ours: action server, then Rasa
   the way `make run` does, `python -m server.rasa_cli run`), each timed to its first answer;
4. load rounds (default 3) alternate between the bots (stock-ours, ours-stock, ...), never both
   under load at once, so that a machine slowing down or speeding up during the run (shared
   machines do) weighs on both alike; the table gives each bot's median over the rounds and the
   ratio of ours to stock in each round is printed too.
Both use an SQLite tracker store in the temporary folder: the stock bot Rasa's `SQL` store, ours
`server.tracker_store.WindowedSQLTrackerStore` (the same SQL store on the same SQLite, plus a
per-conversation window; see BENCHMARKS.md). `--our-tracker-store SQL` measures ours with the
stock store instead; `--in-memory` puts both on Rasa's InMemoryTrackerStore; `--no-perf` runs ours
without server/'s replacements of Rasa internals.

Measured through the REST channel: latency p50/p95/p99 and throughput with 1 and 20 concurrent
users (6-turn conversations: for ours a French/English mix of real questions, for the stock bot
its own greet/mood sentences), latency around turn 5 and turn 200 of one long conversation
(median of turns 3-7 and 196-200), resident memory (RSS, process plus children: peak `VmHWM` and
current after the load; and after the first 200 messages), time from process start to the first
answer, training time. Every loop is bounded in count and in time. Prints a table with ratios, the
previous run's figures next to them (`--previous`, the file an earlier run wrote with `--json`;
`make bench` keeps results/bench.json), and the targets of issues 5 and 15.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.processes import HOST, free_port, stop_process, wait_http  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"

OUR_CONVERSATIONS = [
    ["Bonjour", "Qu'est-ce que l'OIM ?", "Depuis quand existe-t-elle ?", "Où est son siège ?",
     "Est-ce que le Mali est membre ?", "Merci, au revoir"],
    ["Hello", "What does IOM do?", "Tell me more", "Who is the Director General?",
     "How can I apply for a job at IOM?", "thanks, bye"],
    ["Salut", "Comment signaler un cas de traite des personnes ?", "source ?",
     "L'OIM délivre-t-elle des visas ?", "Quelles sont les langues de travail ?", "merci"],
    ["hi", "Is IOM part of the United Nations?", "since when?", "How many member states?",
     "Is Canada a member?", "goodbye"],
    ["bonsoir", "Qu'est-ce que le Pacte mondial sur les migrations ?", "en savoir plus",
     "Comment faire un don ?", "Qui dirige l'OIM ?", "au revoir"],
    ["Good morning", "Where is IOM's headquarters?", "What is assisted voluntary return?",
     "How does IOM fight xenophobia?", "Where can I find migration data?", "thank you"],
]
STOCK_CONVERSATIONS = [
    ["hello", "I am sad", "yes", "are you a bot?", "great", "goodbye"],
    ["hi", "very good", "are you a human?", "I am feeling very sad", "no", "bye"],
    ["hey there", "not good", "of course", "am I talking to a bot?", "I'm great", "see you later"],
]


# --- processes -------------------------------------------------------------------------------

def env() -> Dict[str, str]:
    # IOM_RATE_LIMIT off: a benchmark sends far more per sender than a person (throttle/).
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONDONTWRITEBYTECODE": "1", "IOM_RATE_LIMIT": "off",
            "IOM_ADDRESS_RATE_LIMIT": "off", "IOM_NEW_CONVERSATION_LIMIT": "off"}


def spawn(args: List[str], cwd: Path, log: Path, extra_env: Optional[Dict] = None) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=cwd, env={**env(), **(extra_env or {})},
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def timed_run(args: List[str], cwd: Path, log: Path, timeout: float, extra_env=None) -> float:
    start = time.monotonic()
    with open(log, "ab") as out:
        result = subprocess.run(args, cwd=cwd, env={**env(), **(extra_env or {})}, stdout=out,
                                stderr=subprocess.STDOUT, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{args[:3]} failed, see {log}:\n{log.read_text()[-2000:]}")
    return time.monotonic() - start


def _tree(pid: int) -> List[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(p) for p in task.read_text().split()]
            except OSError:
                pass
    return pids


def memory_mb(pid: int) -> Tuple[float, float]:
    """(current RSS, peak RSS) in MB of a process and all its children."""
    rss = hwm = 0
    for p in _tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        rss += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        hwm += int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
    return rss / 1024, hwm / 1024


def first_answer(url: str, process: subprocess.Popen, started: float, log: Path,
                 text: str, timeout: float = 240) -> float:
    """Seconds from `started` until the REST channel returns a non-empty answer."""
    import urllib.request

    body = json.dumps({"sender": "bench-first", "message": text}).encode()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"rasa exited, see {log}:\n{log.read_text()[-2000:]}")
        request = urllib.request.Request(url + "/webhooks/rest/webhook", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                if json.loads(response.read()):
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no answer within {timeout}s, see {log}")


# --- load ------------------------------------------------------------------------------------

async def say(session: aiohttp.ClientSession, url: str, sender: str, text: str,
              require_reply: bool = True) -> float:
    start = time.perf_counter()
    async with session.post(url + "/webhooks/rest/webhook",
                            json={"sender": sender, "message": text}) as response:
        replies = await response.json()
    elapsed = time.perf_counter() - start
    # The stock bot's dialogue model may legitimately predict no reply (e.g. after "no").
    if response.status != 200 or (require_reply and not replies):
        raise RuntimeError(f"bad answer to {text!r}: {response.status} {replies!r}")
    return elapsed


async def load(url: str, conversations: List[List[str]], users: int, per_user: int,
               max_seconds: float, tag: str, require_reply: bool = True) -> Dict[str, float]:
    """`users` concurrent users, each running up to `per_user` conversations (bounded in time)."""
    latencies: List[float] = []
    deadline = time.monotonic() + max_seconds
    connector = aiohttp.TCPConnector(limit=users)
    timeout = aiohttp.ClientTimeout(total=60)

    async def user(index: int, session: aiohttp.ClientSession) -> None:
        for n in range(per_user):
            if time.monotonic() > deadline:
                return
            turns = conversations[(index + n) % len(conversations)]
            sender = f"bench-{tag}-{index}-{n}-{secrets.token_hex(3)}"
            for text in turns:
                latencies.append(await say(session, url, sender, text, require_reply))

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        await asyncio.gather(*(user(i, session) for i in range(users)))
        wall = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))]

    return {"messages": len(latencies), "throughput": len(latencies) / wall,
            "p50": pct(50) * 1000, "p95": pct(95) * 1000, "p99": pct(99) * 1000}


async def long_conversation(url: str, turns: List[str], count: int, max_seconds: float,
                            require_reply: bool = True) -> Dict[str, float]:
    latencies: List[float] = []
    deadline = time.monotonic() + max_seconds
    sender = f"bench-long-{secrets.token_hex(4)}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for i in range(count):
            if time.monotonic() > deadline:
                break
            latencies.append(await say(session, url, sender, turns[i % len(turns)],
                                       require_reply))
    result = {"turns": len(latencies),
              "turn5": statistics.median(latencies[2:7]) * 1000}
    if len(latencies) >= count:
        result["turn200"] = statistics.median(latencies[count - 5:count]) * 1000
    return result


# --- the two bots ----------------------------------------------------------------------------

class Bot:
    """One bot under test: its servers, URL, conversations and figures."""

    def __init__(self, name: str, conversations: List[List[str]], strict: bool) -> None:
        self.name = name
        self.conversations = conversations
        self.strict = strict  # ours must answer every message
        self.results: Dict[str, float] = {}
        self.rounds: List[Dict[str, Dict[str, float]]] = []
        self.rasa: Optional[subprocess.Popen] = None
        self.actions: Optional[subprocess.Popen] = None
        self.url = ""
        self.log = Path()

    def start(self, command: List[str], rasa_args: List[str], cwd: Path, work: Path,
              first_text: str, extra_env: Optional[Dict[str, str]] = None) -> None:
        port = free_port()
        self.url = f"http://{HOST}:{port}"
        self.log = work / f"{self.name}-rasa.log"
        print(f"[{self.name}] starting {' '.join(command[-3:])} (log: {self.log})", flush=True)
        started = time.monotonic()
        self.rasa = spawn([*command, "--interface", HOST, "--port", str(port), *rasa_args], cwd,
                          self.log, extra_env)
        self.results["first_answer"] = first_answer(self.url, self.rasa, started, self.log,
                                                    first_text)
        self.results["rss_idle"] = memory_mb(self.rasa.pid)[0]
        print(f"[{self.name}] first answer after {self.results['first_answer']:.1f}s", flush=True)
        # 200 messages in all (one user, 6-turn conversations), then the memory: issue 15's figure.
        warm = asyncio.run(load(self.url, self.conversations, 1, -(-199 // 6), 120,
                                f"{self.name}-warm", self.strict))
        self.results["rss_200"] = memory_mb(self.rasa.pid)[0]
        print(f"[{self.name}] RSS after {warm['messages'] + 1} messages: "
              f"{self.results['rss_200']:.0f} MB", flush=True)

    def load_round(self, index: int, args: argparse.Namespace) -> None:
        one = asyncio.run(load(self.url, self.conversations, 1, args.conversations_1,
                               args.max_seconds, f"{self.name}-1-{index}", self.strict))
        many = asyncio.run(load(self.url, self.conversations, args.users, args.conversations_n,
                                args.max_seconds, f"{self.name}-n-{index}", self.strict))
        self.rounds.append({"one": one, "many": many})
        print(f"[{self.name}] round {index + 1}: 1 user {one['throughput']:.1f} msg/s "
              f"p95 {one['p95']:.0f} ms; {args.users} users {many['throughput']:.1f} msg/s "
              f"p95 {many['p95']:.0f} ms", flush=True)

    def finish(self, args: argparse.Namespace) -> Dict[str, float]:
        flat = [t for c in self.conversations for t in c[1:]]
        long = asyncio.run(long_conversation(self.url, flat, args.long_turns, args.max_seconds * 2,
                                             self.strict))
        print(f"[{self.name}] long conversation: {long}", flush=True)
        self.results.update(long)
        # Median over the rounds of each figure (the rounds are interleaved with the other bot's).
        for phase, prefix in (("one", "u1_"), ("many", "un_")):
            for key in self.rounds[0][phase]:
                self.results[prefix + key] = statistics.median(r[phase][key] for r in self.rounds)
        self.results["rss"], self.results["rss_peak"] = memory_mb(self.rasa.pid)
        if self.actions is not None:
            self.results["actions_rss"], self.results["actions_rss_peak"] = memory_mb(
                self.actions.pid)
        if "Falling back to InMemoryTrackerStore" in self.log.read_text(errors="replace"):
            raise RuntimeError(f"[{self.name}] the tracker store failed to load, see {self.log}")
        return self.results

    def stop(self) -> None:
        stop_process(self.rasa)
        stop_process(self.actions)


def prepare_stock(work: Path, args: argparse.Namespace) -> Tuple[Bot, List[str], Path]:
    project = work / "stock"
    project.mkdir()
    cache = {"RASA_CACHE_DIRECTORY": str(work / "cache-stock")}
    print("[stock] rasa init --no-prompt (trains the default pipeline)...", flush=True)
    bot = Bot("stock", STOCK_CONVERSATIONS, strict=False)
    bot.results["train"] = timed_run(
        [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(project)],
        project, work / "stock-init.log", timeout=900, extra_env=cache)
    model = sorted((project / "models").glob("*.tar.gz"))[-1]
    (project / "bench-endpoints.yml").write_text(
        "" if args.in_memory else
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {project / 'tracker.db'}\n")
    return bot, ["--model", str(model), "--endpoints", "bench-endpoints.yml"], project


def our_command(args: argparse.Namespace) -> Tuple[List[str], Dict[str, str]]:
    """How `make run` starts Rasa (server/rasa_cli.py), or plain `rasa` with --no-perf."""
    if args.no_perf:
        return [str(BIN / "rasa")], {"IOM_PERF_PATCHES": "0"}
    return [str(BIN / "python"), "-m", "server.rasa_cli"], {}


def prepare_ours(work: Path, args: argparse.Namespace) -> Tuple[Bot, List[str]]:
    out = work / "ours-models"
    command, extra_env = our_command(args)
    cache = {"RASA_CACHE_DIRECTORY": str(work / "cache-ours"), **extra_env}
    print("[ours] rasa train (full, empty cache)...", flush=True)
    bot = Bot("ours", OUR_CONVERSATIONS, strict=True)
    bot.results["train"] = timed_run(
        [*command, "train", "--fixed-model-name", "iom", "--out", str(out)],
        ROOT, work / "ours-train.log", timeout=900, extra_env=cache)
    model = out / "iom.tar.gz"
    print("[ours] hold-out accuracy...", flush=True)
    holdout = subprocess.run(
        [str(BIN / "python"), "tests/tools/evaluate_holdout.py", "--model", str(model), "--quiet",
         "--out", str(work / "holdout.json")],
        cwd=ROOT, env=env(), capture_output=True, text=True, timeout=600)
    print(holdout.stdout.strip(), flush=True)
    for lang, data in json.loads((work / "holdout.json").read_text()).items():
        bot.results[f"holdout_{lang}"] = data["accuracy"]
    return bot, ["--model", str(model)]


def start_ours(bot: Bot, model_args: List[str], work: Path, args: argparse.Namespace) -> None:
    command, extra_env = our_command(args)
    actions_port = free_port()
    actions_log = work / "ours-actions.log"
    bot.actions = spawn([str(BIN / "rasa"), "run", "actions", "--port", str(actions_port)], ROOT,
                        actions_log)
    wait_http(f"http://{HOST}:{actions_port}/health", bot.actions, actions_log, timeout=240)
    store = args.our_tracker_store
    extra = "" if store == "SQL" else "  window_turns: 5\n"
    endpoints = work / "ours-endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://{HOST}:{actions_port}/webhook"\n' + (
            "" if args.in_memory else
            f"tracker_store:\n  type: {store}\n  dialect: sqlite\n  db: {work / 'ours.db'}\n"
            + extra))
    (work / "ours-credentials.yml").write_text("channels.rest.GuardedRestInput:\n")
    bot.start([*command, "run"], [*model_args, "--endpoints", str(endpoints),
                                  "--credentials", str(work / "ours-credentials.yml")],
              ROOT, work, "Bonjour", extra_env)


def run_bench(work: Path, args: argparse.Namespace) -> Tuple[Dict[str, float], Dict[str, float],
                                                              List[Tuple[float, float]]]:
    """Trains both, starts both (one at a time), then loads them in alternating rounds."""
    bots: List[Bot] = []
    try:
        if not args.skip_stock:
            stock, stock_args, project = prepare_stock(work, args)
            bots.append(stock)
        ours, model_args = prepare_ours(work, args)
        bots.append(ours)
        if not args.skip_stock:
            stock.start([str(BIN / "rasa"), "run"], stock_args, project, work, "hello")
        start_ours(ours, model_args, work, args)
        # Rounds alternate the order (stock-ours, ours-stock, ...): a machine that slows down or
        # speeds up during the run weighs on both bots alike. Only one bot is under load at a time.
        for index in range(args.rounds):
            for bot in (bots if index % 2 == 0 else bots[::-1]):
                bot.load_round(index, args)
        figures = [bot.finish(args) for bot in bots]
        per_round = []
        if not args.skip_stock:
            per_round = [(o["many"]["throughput"] / s["many"]["throughput"],
                          s["many"]["p95"] / o["many"]["p95"])
                         for s, o in zip(stock.rounds, ours.rounds)]
    finally:
        for bot in bots:
            bot.stop()
    return ({} if args.skip_stock else figures[0]), figures[-1], per_round


# --- report ----------------------------------------------------------------------------------

def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)
    load = os.getloadavg()
    return (f"{os.cpu_count()} CPUs ({cpu}), {int(mem) / 1024 / 1024:.1f} GiB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
            f"load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def report(stock: Dict[str, float], ours: Dict[str, float], per_round: List[Tuple[float, float]],
           args: argparse.Namespace, previous: Optional[Dict] = None) -> bool:
    n = args.users
    rows = [
        # label, key, unit, "higher is better"
        ("latency p50, 1 user", "u1_p50", "ms", False),
        ("latency p95, 1 user", "u1_p95", "ms", False),
        ("latency p99, 1 user", "u1_p99", "ms", False),
        ("throughput, 1 user", "u1_throughput", "msg/s", True),
        (f"latency p50, {n} users", "un_p50", "ms", False),
        (f"latency p95, {n} users", "un_p95", "ms", False),
        (f"latency p99, {n} users", "un_p99", "ms", False),
        (f"throughput, {n} users", "un_throughput", "msg/s", True),
        ("latency turn 5 (long conv.)", "turn5", "ms", False),
        ("latency turn 200 (long conv.)", "turn200", "ms", False),
        ("Rasa server RSS after 200 messages", "rss_200", "MB", False),
        ("Rasa server RSS after load", "rss", "MB", False),
        ("Rasa server RSS peak", "rss_peak", "MB", False),
        ("action server RSS after load", "actions_rss", "MB", False),
        ("start to first answer", "first_answer", "s", False),
        ("training (full)", "train", "s", False),
        ("hold-out accuracy en", "holdout_en", "", True),
        ("hold-out accuracy fr", "holdout_fr", "", True),
        ("hold-out accuracy es", "holdout_es", "", True),
    ]

    def fmt(value: Optional[float], unit: str) -> str:
        if value is None:
            return "n/a"
        if unit == "":
            return f"{value:.3f}"
        return f"{value:.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"

    def ratio(a: Optional[float], b: Optional[float], higher: bool) -> str:
        if not (a and b):
            return "n/a"
        return f"{b / a:.1f}x" if higher else f"{a / b:.1f}x better" if b < a else f"{b / a:.2f}x worse"

    # The previous run's figures (--previous: the JSON an earlier run wrote with --json).
    old = (previous or {}).get("ours", {})
    old_stock = (previous or {}).get("stock", {})
    header = "| metric | stock `rasa init` | ours | ours vs stock |"
    if previous:
        header += " previous run: stock | ours | ours vs stock |"
    lines = [header, "|---|---:|---:|---:|" + ("---:|---:|---:|" if previous else "")]
    for label, key, unit, higher in rows:
        a, b = stock.get(key), ours.get(key)
        line = f"| {label} | {fmt(a, unit)} | {fmt(b, unit)} | {ratio(a, b, higher)} |"
        if previous:
            pa, pb = old_stock.get(key), old.get(key)
            line += f" {fmt(pa, unit)} | {fmt(pb, unit)} | {ratio(pa, pb, higher)} |"
        lines.append(line)
    if previous:
        lines.append(f"\n(previous run: {previous.get('date', '?')}, {previous.get('machine', '?')})")
    print("\n" + "\n".join(lines))
    if per_round:
        print(f"\nEach round ({n} users, ours vs stock): " + "; ".join(
            f"{i + 1}: throughput {t:.1f}x, p95 1/{p:.1f}" for i, (t, p) in enumerate(per_round)))

    checks = []
    if stock:
        checks += [
            (f"throughput at {n} users >= 4x stock",
             ours["un_throughput"] >= 4 * stock["un_throughput"],
             f"{ours['un_throughput'] / stock['un_throughput']:.1f}x"),
            (f"p95 at {n} users <= 1/4 stock", ours["un_p95"] * 4 <= stock["un_p95"],
             f"1/{stock['un_p95'] / ours['un_p95']:.1f}"),
        ]
    if "turn200" in ours:
        checks.append(("turn-200 latency <= 2x turn-5", ours["turn200"] <= 2 * ours["turn5"],
                       f"{ours['turn200'] / ours['turn5']:.2f}x"))
    else:
        checks.append(("turn-200 latency <= 2x turn-5", False, "long conversation cut short"))
    checks += [
        ("Rasa server <= 600 MB RSS", ours["rss_peak"] <= 600, f"{ours['rss_peak']:.0f} MB peak"),
        ("first answer within 15 s", ours["first_answer"] <= 15, f"{ours['first_answer']:.1f} s"),
        ("full training within 60 s", ours["train"] <= 60, f"{ours['train']:.1f} s"),
    ]
    for lang in ("en", "fr", "es"):
        value = ours.get(f"holdout_{lang}", 0)
        checks.append((f"hold-out accuracy {lang} >= 0.90", value >= 0.90, f"{value:.3f}"))
    lean = [
        ("first answer within 3 s", ours["first_answer"] <= 3, f"{ours['first_answer']:.1f} s"),
        ("Rasa server <= 250 MB RSS after 200 messages", ours["rss_200"] <= 250,
         f"{ours['rss_200']:.0f} MB"),
    ]
    for title, group in (("issue 5", checks), ("issue 15, lean server", lean)):
        print(f"\nTargets ({title}):")
        for label, ok, figure in group:
            print(f"  [{'ok' if ok else 'MISSED'}] {label}: {figure}")
    return all(ok for _, ok, _ in checks + lean)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--conversations-1", type=int, default=10,
                        help="conversations of the single user (default 10 = 60 messages)")
    parser.add_argument("--conversations-n", type=int, default=4,
                        help="conversations per concurrent user (default 4 = 480 messages)")
    parser.add_argument("--long-turns", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=120,
                        help="time bound of each load phase (the long conversation: twice)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="load rounds per bot, alternating the bots (medians are reported)")
    parser.add_argument("--skip-stock", action="store_true", help="measure only ours")
    parser.add_argument("--no-perf", action="store_true",
                        help="ours with plain `rasa` and IOM_PERF_PATCHES=0: none of server/'s "
                             "replacements of Rasa internals (with --our-tracker-store SQL: "
                             "none of server/ at all)")
    parser.add_argument("--our-tracker-store", default="server.tracker_store.WindowedSQLTrackerStore",
                        help="tracker store type for ours ('SQL' = Rasa's stock SQL store)")
    parser.add_argument("--in-memory", action="store_true",
                        help="both bots on Rasa's InMemoryTrackerStore (compares the engines "
                             "without the SQL store; ours then has no server/ module)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--previous", help="a file written by --json in an earlier run: its "
                        "figures are printed next to this run's (make bench: results/bench.json)")
    args = parser.parse_args()
    previous = None
    if args.previous and Path(args.previous).exists():
        previous = json.loads(Path(args.previous).read_text())

    print("Machine:", machine(), flush=True)
    work = Path(tempfile.mkdtemp(prefix="iom-bench-"))
    try:
        stock, ours, per_round = run_bench(work, args)
        ok = report(stock, ours, per_round, args, previous)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(
                {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "stock": stock,
                 "ours": ours, "rounds": per_round}, indent=1))
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
