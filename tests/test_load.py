"""Load: 50 concurrent conversations of 20 turns through the REST channel, against the real servers.

Every turn must get a real answer (no error, no "temporarily unavailable"), and afterwards each
conversation's tracker must hold exactly the messages that were sent, in order. The latency
percentiles are printed and written to results/load.json. IOM_LOAD_CONVERSATIONS and
IOM_LOAD_TURNS resize it (defaults 50 and 20, what CI runs).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests import facts_file
from tests.servers import ROOT, Stack, http

pytestmark = pytest.mark.integration

CONVERSATIONS = int(os.environ.get("IOM_LOAD_CONVERSATIONS", "50"))
TURNS = int(os.environ.get("IOM_LOAD_TURNS", "20"))
UNAVAILABLE = {facts_file.message("unavailable", lang) for lang in ("fr", "en")}

QUESTIONS = [
    "Hello",
    "Who is IOM?",
    "Qui dirige l'OIM ?",
    "source ?",
    "Where is the IOM headquarters?",
    "tell me more",
    "Combien d'États membres compte l'OIM ?",
    "Is Kenya a member of IOM?",
    "since when?",
    "What does IOM do?",
    "Comment postuler à un emploi à l'OIM ?",
    "Does IOM issue visas?",
    "Quelle est la position de l'OIM sur la xénophobie ?",
    "What are IOM's working languages?",
    "merci",
    "Who is the Deputy Director General for Operations?",
    "Qu'est-ce que le Pacte mondial sur les migrations ?",
    "How can I report human trafficking?",
    "Are you a bot?",
    "Au revoir",
]


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = Stack(
        tmp_path_factory.mktemp("load"), credentials="channels.rest.GuardedRestInput:\n",
        env={"IOM_RATE_LIMIT": "off"},  # 20 messages per conversation as fast as possible
    ).start()
    running.say("warm-up", "Hello")
    yield running
    running.stop()


def test_concurrent_conversations(stack):
    url = stack.url + "/webhooks/rest/webhook"
    latencies = []
    problems = []
    lock = threading.Lock()

    def conversation(number: int) -> list:
        sender = f"load-{number}"
        sent = []
        for turn in range(TURNS):
            text = QUESTIONS[(number + turn) % len(QUESTIONS)]
            started = time.monotonic()
            status, raw = http("POST", url, {"sender": sender, "message": text}, timeout=120)
            elapsed = time.monotonic() - started
            sent.append(text)
            with lock:
                latencies.append(elapsed)
            if status != 200:
                problems.append(f"{sender} turn {turn}: HTTP {status} {raw[:200]!r}")
                continue
            replies = [r.get("text", "") for r in json.loads(raw)]
            if not any(replies) or UNAVAILABLE & set(replies):
                problems.append(f"{sender} turn {turn} {text!r}: {replies!r}")
        return sent

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
        sent = list(pool.map(conversation, range(CONVERSATIONS)))
    wall = time.monotonic() - started

    report = {
        "conversations": CONVERSATIONS,
        "turns": TURNS,
        "messages": len(latencies),
        "wall_seconds": round(wall, 1),
        "throughput_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000),
        "p95_ms": round(percentile(latencies, 0.95) * 1000),
        "max_ms": round(max(latencies) * 1000),
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nload: {json.dumps(report)}")

    assert not problems, f"{len(problems)} bad turns, e.g.:\n" + "\n".join(problems[:10])
    assert len(latencies) == CONVERSATIONS * TURNS
    for number, texts_sent in enumerate(sent):
        events = stack.tracker(f"load-{number}")["events"]
        users = [e["text"] for e in events if e["event"] == "user"]
        assert users == texts_sent, f"load-{number}: {len(users)} user messages stored, {len(texts_sent)} sent"
        bots = [e for e in events if e["event"] == "bot"]
        assert len(bots) >= TURNS
