"""Two real Rasa servers behind a real nginx, sharing PostgreSQL (tracker store) and Redis (lock
store) on 127.0.0.1, as deploy/endpoints.yml and deploy/nginx.conf describe (tests/cluster.py).

Needs PostgreSQL and Redis answering on 127.0.0.1 (scripts/services.sh starts them; `make test`
calls it); each run works in its own throw-away database. SCALED_LOCK_STORE=none (or redis)
runs the same tests with another lock store, to see what the shared lock store is for.
"""

from __future__ import annotations

import re
import signal
import threading
import time
import uuid
from collections import Counter
from typing import Dict, List

import pytest

from tests.cluster import Cluster, stored_user_texts

pytestmark = pytest.mark.integration

ROUNDS = 25
# (question, a word its answer contains): English ones go to server 0, French ones to server 1.
ENGLISH = [
    ("Where is the headquarters of IOM?", "Geneva"),
    ("Who is the Director General of IOM?", "Amy E. Pope"),
    ("What are the working languages of IOM?", "English"),
]
FRENCH = [
    ("Où se trouve le siège de l'OIM ?", "Genève"),
    ("Qui dirige l'OIM ?", "Amy E. Pope"),
    ("Quelles sont les langues de travail de l'OIM ?", "anglais"),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with Cluster(tmp_path_factory.mktemp("scaled"), rasa_servers=2, action_servers=1) as running:
        yield running


def dialogue(tracker: Dict) -> List[Dict]:
    return [e for e in tracker["events"] if e["event"] in ("user", "bot")]


def turns(tracker: Dict) -> List[tuple]:
    """(probe id of the user message, text of the bot replies that followed it) per user turn."""
    result: List[tuple] = []
    for event in dialogue(tracker):
        if event["event"] == "user":
            result.append(((event.get("metadata") or {}).get("probe"), event["text"], []))
        elif result:
            result[-1][2].append(event.get("text") or "")
    return [(probe, text, "\n".join(replies)) for probe, text, replies in result]


def test_one_conversation_on_two_servers_at_once_keeps_every_message_once_in_order(cluster):
    sender = f"both-{uuid.uuid4().hex[:8]}"
    expected_word: Dict[str, str] = {}
    answers: Dict[str, tuple] = {}

    def send(server: int, probe: str, text: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        answers[probe] = cluster.say(sender, text, metadata={"probe": probe}, server=server)

    for round_ in range(ROUNDS):
        barrier = threading.Barrier(2)
        threads = []
        for server, questions in ((0, ENGLISH), (1, FRENCH)):
            text, word = questions[round_ % len(questions)]
            probe = f"{round_}-{server}"
            expected_word[probe] = word
            threads.append(threading.Thread(target=send, args=(server, probe, text, barrier)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

    # What each user saw: every message answered, with the answer to that question.
    for probe, word in expected_word.items():
        status, replies = answers[probe]
        assert status == 200, (probe, status, replies)
        assert word in " ".join(r.get("text", "") for r in replies), (probe, replies)

    # What each server holds: the same conversation, every message exactly once, each followed
    # by its own answer (never by the other message's), rounds in the order they were sent.
    seen = [turns(cluster.tracker(sender, server=server)) for server in (0, 1)]
    assert seen[0] == seen[1], "the two servers disagree about the conversation"
    probes = [probe for probe, _, _ in seen[0]]
    counts = Counter(probes)
    assert sorted(counts) == sorted(expected_word), "messages missing or unexpected"
    assert [p for p, n in counts.items() if n > 1] == [], "messages stored more than once"
    rounds = [int(p.split("-")[0]) for p in probes]
    assert rounds == sorted(rounds), f"rounds out of order: {rounds}"
    for probe, text, replies in seen[0]:
        assert expected_word[probe] in replies, f"{probe} {text!r} followed by {replies!r}"
    # And PostgreSQL itself: one row per message.
    assert len(stored_user_texts(cluster.settings, cluster.db_name, sender)) == 2 * ROUNDS


def test_stopping_one_server_under_load_loses_nothing(cluster):
    conversations, messages_each = 6, 10
    senders = [f"load-{i}-{uuid.uuid4().hex[:6]}" for i in range(conversations)]
    results: Dict[str, List[tuple]] = {sender: [] for sender in senders}
    done = threading.Semaphore(0)
    access_log = cluster.workdir / "nginx" / "access.log"
    log_start = access_log.stat().st_size

    def converse(index: int, sender: str) -> None:
        for n in range(messages_each):
            questions = ENGLISH if (n + index) % 2 else FRENCH
            text, word = questions[n % len(questions)]
            status, replies = cluster.say(sender, text, metadata={"probe": str(n)})
            results[sender].append((n, status, word, " ".join(r.get("text", "") for r in replies)))
            done.release()

    threads = [threading.Thread(target=converse, args=(i, s)) for i, s in enumerate(senders)]
    for thread in threads:
        thread.start()
    for _ in range(15):  # let 15 messages through both servers, then stop one mid-load
        assert done.acquire(timeout=120), "no progress under load"
    before_stop = access_log.read_text()[log_start:]
    stopped_at = time.monotonic()
    cluster.stop_rasa(0, signal.SIGTERM)
    stop_seconds = time.monotonic() - stopped_at
    for thread in threads:
        thread.join(300)
    total = conversations * messages_each
    answered_after = total - 15
    assert answered_after > 0 and cluster.rasa[0].poll() is not None

    # Both servers were taking traffic before the stop.
    for port in cluster.rasa_ports:
        assert f"127.0.0.1:{port}" in before_stop, f"server on {port} got no traffic"
    # Every user got an answer to every message, during and after the stop.
    for sender, sent in results.items():
        assert len(sent) == messages_each
        for n, status, word, text in sent:
            assert status == 200 and word in text, (sender, n, status, text, stop_seconds)
    # Nothing lost or doubled: the surviving server holds each conversation complete, in order.
    for sender in senders:
        probes = [probe for probe, _, _ in turns(cluster.tracker(sender, server=1))]
        assert probes == [str(n) for n in range(messages_each)], (sender, probes)
    # A restarted server sees everything the other one stored meanwhile.
    cluster.start_rasa(0)
    for sender in senders:
        assert turns(cluster.tracker(sender, server=0)) == turns(cluster.tracker(sender, server=1))
    after_restart = cluster.say(senders[0], "hello", server=0)
    assert after_restart[0] == 200 and re.search(r"IOM|OIM", str(after_restart[1]))
