"""Two real Rasa servers behind a real nginx, sharing PostgreSQL (tracker store) and Redis (lock
store) on 127.0.0.1, as deploy/endpoints.yml and deploy/nginx.conf describe (tests/cluster.py).
Their calls to the action server pass through `ActionGate`, which forwards them unchanged and can
hold one conversation's call, so that a test knows that turn is under way and on which server.

Needs PostgreSQL and Redis answering on 127.0.0.1 (scripts/services.sh starts them; `make test`
calls it); each run works in its own throw-away database. SCALED_LOCK_STORE=none (or redis)
runs the same tests with another lock store, to see what the shared lock store is for.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from typing import Dict, List, Optional

import aiohttp
import pytest
from aiohttp import web

from server.drain import port_state
from tests.cluster import Cluster, stored_user_texts
from tests.standins.base import StandIn

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


class ActionGate(StandIn):
    """Between the Rasa servers and nginx's action-server port: forwards every call unchanged.
    Server i calls /from-i/webhook, so the gate knows which server runs a turn; `hold(sender)`
    keeps that conversation's next call until `release(sender)`."""

    def __init__(self) -> None:
        super().__init__()
        self.upstream: Optional[str] = None
        self._held: Dict[str, threading.Event] = {}
        self._arrived: Dict[str, threading.Event] = {}
        self.server_of: Dict[str, int] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/from-{index}/webhook", self._forward)

    def hold(self, sender: str) -> None:
        self._held[sender] = threading.Event()
        self._arrived[sender] = threading.Event()

    def wait_held(self, sender: str, timeout: float = 60) -> int:
        assert self._arrived[sender].wait(timeout), f"no action call for {sender}"
        return self.server_of[sender]

    def release(self, sender: str) -> None:
        self._held.pop(sender).set()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        sender = (json.loads(body).get("tracker") or {}).get("sender_id")
        released = self._held.get(sender)
        if released is not None and not self._arrived[sender].is_set():
            self.server_of[sender] = int(request.match_info["index"])
            self._arrived[sender].set()
            await asyncio.get_running_loop().run_in_executor(None, released.wait, 120)
        async with aiohttp.ClientSession() as session:
            # The Rasa server's secret goes on, as nginx passes it (server/action_token.py).
            headers = {"Content-Type": "application/json",
                       **{k: v for k, v in request.headers.items() if k.lower() == "authorization"}}
            async with session.post(self.upstream, data=body, headers=headers) as reply:
                return web.Response(body=await reply.read(), status=reply.status,
                                    content_type="application/json")


@pytest.fixture(scope="module")
def gate():
    standin = ActionGate().start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, gate):
    # No limits: these tests send many messages per conversation, all from 127.0.0.1. The
    # action timeout is longer than any hold of the gate.
    env = {"IOM_RATE_LIMIT": "off", "IOM_ACTION_TIMEOUT": "60"}
    with Cluster(tmp_path_factory.mktemp("scaled"), rasa_servers=2, action_servers=1, env=env,
                 address_limit=False,
                 rasa_env=lambda i: {"ACTION_ENDPOINT_URL": f"{gate.url}/from-{i}/webhook"},
                 ) as running:
        gate.upstream = f"http://127.0.0.1:{running.actions_listen_port}/webhook"
        yield running


def dialogue(tracker: Dict) -> List[Dict]:
    return [e for e in tracker["events"] if e["event"] in ("user", "bot")]


def turns(tracker: Dict) -> List[tuple]:
    """(probe id of the user message, text of the bot replies that followed it) per user turn."""
    result: List[tuple] = []
    for event in dialogue(tracker):
        if event["event"] == "user":
            result.append(((event.get("metadata") or {}).get("message_id"), event["text"], []))
        elif result:
            result[-1][2].append(event.get("text") or "")
    return [(probe, text, "\n".join(replies)) for probe, text, replies in result]


def test_one_conversation_on_two_servers_at_once_keeps_every_message_once_in_order(cluster):
    sender = f"both-{uuid.uuid4().hex[:8]}"
    expected_word: Dict[str, str] = {}
    answers: Dict[str, tuple] = {}

    def send(server: int, probe: str, text: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        answers[probe] = cluster.say(sender, text, metadata={"message_id": probe}, server=server)

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


def nginx_errors_after(cluster: Cluster, offset: int) -> List[str]:
    """nginx's error lines since `offset` that mean a request reached a server and got no answer
    (a refused or timed-out connection is not one: nginx sends that request elsewhere)."""
    log = (cluster.workdir / "nginx.log").read_text()[offset:]
    return [line for line in log.splitlines()
            if "upstream" in line and ("reading response" in line or "sending request" in line
                                       or "prematurely closed" in line)]


def refuses_connections(port: int) -> bool:
    """True once nothing listens on `port` any more (a connection attempt is refused)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:  # timed out: a stopping server drops new connection requests
        return False


def test_stopping_one_server_under_load_loses_nothing(cluster):
    conversations, messages_each, bursts = 6, 10, 8
    senders = [f"load-{i}-{uuid.uuid4().hex[:6]}" for i in range(conversations)]
    results: Dict[str, List[tuple]] = {sender: [] for sender in senders}
    done = threading.Semaphore(0)
    access_log = cluster.workdir / "nginx" / "access.log"
    log_start = access_log.stat().st_size
    errors_start = (cluster.workdir / "nginx.log").stat().st_size
    stopping = cluster.rasa[0]

    def converse(index: int, sender: str) -> None:
        for n in range(messages_each):
            questions = ENGLISH if (n + index) % 2 else FRENCH
            text, word = questions[n % len(questions)]
            status, replies = cluster.say(sender, text, metadata={"message_id": str(n)})
            results[sender].append((n, status, word, " ".join(r.get("text", "") for r in replies)))
            done.release()

    burst_results: Dict[str, tuple] = {}

    def burst(sender: str) -> None:
        status, replies = cluster.say(sender, ENGLISH[0][0], metadata={"message_id": "0"})
        burst_results[sender] = (status, " ".join(r.get("text", "") for r in replies))

    threads = [threading.Thread(target=converse, args=(i, s)) for i, s in enumerate(senders)]
    for thread in threads:
        thread.start()
    for _ in range(15):  # let 15 messages through both servers, then stop one mid-load
        assert done.acquire(timeout=120), "no progress under load"
    before_stop = access_log.read_text()[log_start:]

    # Under load a Rasa server's event loop takes new connections late, so some wait in the
    # kernel's accept queue, their request already sent by nginx: what Sanic's own stop reset
    # (502). Make that state certain: freeze the server, send a burst through nginx (least_conn
    # hands the frozen server its share), and check that connections are queued at its port.
    os.kill(stopping.pid, signal.SIGSTOP)
    burst_senders = [f"burst-{i}-{uuid.uuid4().hex[:6]}" for i in range(bursts)]
    burst_threads = [threading.Thread(target=burst, args=(s,)) for s in burst_senders]
    try:
        for thread in burst_threads:
            thread.start()
        deadline = time.monotonic() + 60
        while port_state(cluster.rasa_ports[0]).accept_queue == 0:
            assert time.monotonic() < deadline, "no connection queued at the frozen server"
            time.sleep(0.05)
        queued = port_state(cluster.rasa_ports[0]).accept_queue
        os.killpg(stopping.pid, signal.SIGTERM)  # delivered when it runs again
    finally:
        os.kill(stopping.pid, signal.SIGCONT)
    assert stopping.wait(30) == 0, "the server did not stop cleanly"
    for thread in threads + burst_threads:
        thread.join(300)
    assert cluster.rasa[0].poll() is not None

    # Both servers were taking traffic before the stop.
    for port in cluster.rasa_ports:
        assert f"127.0.0.1:{port}" in before_stop, f"server on {port} got no traffic"
    # Every user got an answer to every message, during and after the stop.
    for sender, sent in results.items():
        assert len(sent) == messages_each
        for n, status, word, text in sent:
            assert status == 200 and word in text, (sender, n, status, text, queued)
    for sender, (status, text) in burst_results.items():
        assert status == 200 and ENGLISH[0][1] in text, (sender, status, text, queued)
    # The queued requests were answered by the stopping server itself (never sent twice), and
    # nginx saw no request cut off by a server.
    access = access_log.read_text()[log_start:]
    served_by_stopping = [
        line for line in access.splitlines()
        if line.split()[-2] == f"127.0.0.1:{cluster.rasa_ports[0]}" and '" 200 ' in line
    ]
    assert served_by_stopping, "the stopping server answered nothing after it was frozen"
    assert nginx_errors_after(cluster, errors_start) == []
    # Nothing lost or doubled: the surviving server holds each conversation complete, in order.
    for sender in senders:
        probes = [probe for probe, _, _ in turns(cluster.tracker(sender, server=1))]
        assert probes == [str(n) for n in range(messages_each)], (sender, probes)
    for sender in burst_senders:
        assert [p for p, _, _ in turns(cluster.tracker(sender, server=1))] == ["0"], sender
    # A restarted server sees everything the other one stored meanwhile.
    cluster.start_rasa(0)
    for sender in senders:
        assert turns(cluster.tracker(sender, server=0)) == turns(cluster.tracker(sender, server=1))
    after_restart = cluster.say(senders[0], "hello", server=0)
    assert after_restart[0] == 200 and re.search(r"IOM|OIM", str(after_restart[1]))


def test_stopping_a_server_mid_turn_finishes_that_turn(cluster, gate):
    """The server answering a message is stopped while that turn waits for the action server:
    it refuses new connections (nginx sends the other conversations to the other server), then
    completes the turn, answers it and exits."""
    sender = f"midturn-{uuid.uuid4().hex[:8]}"
    question, word = ENGLISH[1]
    errors_start = (cluster.workdir / "nginx.log").stat().st_size
    gate.hold(sender)
    answer: Dict[str, tuple] = {}
    turn = threading.Thread(target=lambda: answer.update(
        reply=cluster.say(sender, question, metadata={"message_id": "0"})))
    turn.start()
    index = gate.wait_held(sender)  # the turn is under way on server `index`
    other = 1 - index
    stopping = cluster.rasa[index]
    os.killpg(stopping.pid, signal.SIGTERM)
    try:
        deadline = time.monotonic() + 30
        while not refuses_connections(cluster.rasa_ports[index]):
            assert time.monotonic() < deadline, "the stopping server still takes connections"
            time.sleep(0.05)
        assert turn.is_alive() and stopping.poll() is None, (
            "the held turn ended early", answer, stopping.poll())
        # Meanwhile other users are answered, by the other server.
        others = [(f"other-{i}-{uuid.uuid4().hex[:6]}", *FRENCH[i % len(FRENCH)]) for i in range(4)]
        for other_sender, text, other_word in others:
            status, replies = cluster.say(other_sender, text, metadata={"message_id": "0"})
            assert status == 200 and other_word in str(replies), (other_sender, status, replies)
    finally:
        gate.release(sender)
    turn.join(60)
    status, replies = answer["reply"]
    assert status == 200 and word in " ".join(r.get("text", "") for r in replies), (status, replies)
    assert stopping.wait(30) == 0, "the server did not stop cleanly after finishing the turn"
    assert nginx_errors_after(cluster, errors_start) == []
    # The turn is stored once, with its answer, where the other server reads it.
    [(probe, text, reply)] = turns(cluster.tracker(sender, server=other))
    assert probe == "0" and word in reply
    for other_sender, _, _ in others:
        assert [p for p, _, _ in turns(cluster.tracker(other_sender, server=other))] == ["0"]
    cluster.start_rasa(index)


def test_rolling_restart_without_a_pause_loses_nothing(cluster):
    """Each server in turn is stopped and started again, the next one stopped as soon as the
    previous answers, while users keep writing through nginx. nginx still counts the restarted
    server as down for up to fail_timeout (5 s) when the next one stops; without the backup
    listing (deploy/nginx.py) those messages got a 502 ("no live upstreams")."""
    errors_start = (cluster.workdir / "nginx.log").stat().st_size
    results: List[tuple] = []
    stop = threading.Event()

    def converse(index: int) -> None:
        sender, n = f"rolling-{index}-{uuid.uuid4().hex[:6]}", 0
        while not stop.is_set():
            text, word = (ENGLISH + FRENCH)[(n + index) % 6]
            status, replies = cluster.say(sender, text, metadata={"message_id": str(n)})
            results.append((sender, n, status, word in str(replies), replies))
            n += 1

    users = [threading.Thread(target=converse, args=(i,)) for i in range(3)]
    for user in users:
        user.start()
    try:
        for index in range(len(cluster.rasa)):
            cluster.stop_rasa(index)
            assert cluster.rasa[index].returncode == 0, "the server did not stop cleanly"
            cluster.start_rasa(index)
    finally:
        stop.set()
        for user in users:
            user.join(120)
    assert len(results) > 20, "too few messages sent during the restarts to mean anything"
    failed = [r for r in results if r[2] != 200 or not r[3]]
    assert not failed, failed[:5]
    log = (cluster.workdir / "nginx.log").read_text()[errors_start:]
    assert "no live upstreams" not in log
    assert nginx_errors_after(cluster, errors_start) == []
