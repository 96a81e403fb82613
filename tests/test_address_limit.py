"""The per-address limits (throttle/, channels/client_address.py): one client, one share.

Issue 21: a client that picks a new sender id for every message (or opens a new socket.io session
before each one) dodged the per-sender limit, slowed everyone down and filled the tracker store.
Units first (which address a request is from; the stores' count of new conversations), then one
real Rasa server and action server with the limits at their defaults (30 new conversations and
50 messages per address in 10 s), `IOM_TRUSTED_PROXIES=127.0.0.1`, and clients on
several loopback addresses (127.0.0.1 stands for a proxy or a client, 127.0.0.2 to .5 for
others). The figures of the flood are printed; `python -m bench.address_flood` measures them at
length.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import sqlite3
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Tuple

import pytest
import socketio

from actions.facts import FactStore
from channels.client_address import client_address, limit_key, parse_networks
from tests.servers import ROOT, Stack, web_conversation_id
from throttle.limiter import Limit, MemoryStore, RedisStore

FACTS = FactStore().current()
NEW_CONVERSATIONS = 30  # throttle/'s default IOM_NEW_CONVERSATION_LIMIT: 30 in 10 minutes
QUESTION, ANSWER = "Where is the headquarters of IOM?", FACTS.text("headquarters", "short", "en")
WEB_ORIGIN = "http://127.0.0.1:8080"


# --- which address -----------------------------------------------------------------------------

TRUSTED = parse_networks("127.0.0.1, 10.0.0.0/8")


def test_the_peer_is_the_client_and_a_header_from_anyone_else_is_ignored():
    assert client_address("192.0.2.1") == "192.0.2.1"
    assert client_address("192.0.2.1", "203.0.113.5", TRUSTED) == "192.0.2.1"
    assert client_address("192.0.2.1", "203.0.113.5", []) == "192.0.2.1"


def test_a_trusted_proxy_is_believed_from_the_right():
    # nginx appends the address it saw; whatever the client wrote before it is not believed.
    assert client_address("127.0.0.1", "203.0.113.5", TRUSTED) == "203.0.113.5"
    assert client_address("127.0.0.1", "6.6.6.6, 203.0.113.5", TRUSTED) == "203.0.113.5"
    # Two proxies of ours: the first untrusted address from the right.
    assert client_address("127.0.0.1", "6.6.6.6, 203.0.113.5, 10.1.2.3", TRUSTED) == "203.0.113.5"
    # Junk where a proxy would have written: the last address a trusted hop gave.
    assert client_address("127.0.0.1", "junk", TRUSTED) == "127.0.0.1"
    assert client_address("127.0.0.1", "203.0.113.5, junk", TRUSTED) == "127.0.0.1"


def test_an_ipv6_client_counts_as_its_64():
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:3::1") != limit_key("2001:db8:1:2::1")
    assert limit_key("192.0.2.7") == "192.0.2.7"
    assert client_address("::ffff:192.0.2.7") == "192.0.2.7"


# --- the stores' new conversations --------------------------------------------------------------

def test_memory_store_counts_each_sender_once_and_forgets_the_refused():
    now = [0.0]
    store = MemoryStore(clock=lambda: now[0])
    limit = Limit(2, 60)

    async def run() -> List[bool]:
        return [(await store.new_conversation(f"seen:a:{s}", "conv:a", limit)).allowed
                for s in ("x", "x", "y", "x", "z", "z", "y")]

    # x and y open conversations; z is refused each time (not remembered), x and y go on.
    assert asyncio.run(run()) == [True, True, True, True, False, False, True]
    now[0] += 61  # the window closed: z is new and allowed
    assert asyncio.run(store.new_conversation("seen:a:z", "conv:a", limit)).allowed


def test_redis_store_counts_new_conversations_for_all_servers():
    prefix = f"iom:test-rate:{uuid.uuid4().hex}:"
    stores = [RedisStore(os.environ.get("REDIS_HOST", "127.0.0.1"),
                         int(os.environ.get("REDIS_PORT", "6379")),
                         os.environ.get("REDIS_PASSWORD"), prefix=prefix) for _ in range(2)]
    limit = Limit(2, 60)

    async def run() -> Tuple[List[bool], List[bool]]:
        allowed = [(await stores[i % 2].new_conversation(f"seen:a:{s}", "conv:a", limit)).allowed
                   for i, s in enumerate(("x", "x", "y", "z", "x"))]
        told = [await stores[i % 2].first("told:a:z", 60) for i in range(3)]
        return allowed, told

    assert asyncio.run(run()) == ([True, True, True, False, True], [True, False, False])


# --- the real server ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    env = {
        # Empty: throttle/'s defaults (tests/servers.py turns the per-address limits off).
        "IOM_ADDRESS_RATE_LIMIT": "", "IOM_NEW_CONVERSATION_LIMIT": "",
        "IOM_TRUSTED_PROXIES": "127.0.0.1", "IOM_ALLOWED_ORIGINS": WEB_ORIGIN,
    }
    running = Stack(tmp_path_factory.mktemp("address-limit"),
                    credentials=(ROOT / "credentials.yml").read_text(), env=env).start()
    yield running
    running.stop()


def post(port: int, source: str, sender: str, text: str,
         headers: Optional[Dict[str, str]] = None) -> Tuple[int, float, bytes]:
    """One REST message from the loopback address `source`; (status, seconds, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                            source_address=(source, 0))
    started = time.perf_counter()
    try:
        connection.request("POST", "/webhooks/rest/webhook",
                           json.dumps({"sender": sender, "message": text}),
                           {"Content-Type": "application/json", **(headers or {})})
        reply = connection.getresponse()
        return reply.status, time.perf_counter() - started, reply.read()
    finally:
        connection.close()


def stored_senders(stack: Stack) -> List[str]:
    with sqlite3.connect(stack.tracker_db) as connection:
        return [row[0] for row in connection.execute("SELECT DISTINCT sender_id FROM events")]


def p95(values: List[float]) -> float:
    return sorted(values)[int(round(0.95 * (len(values) - 1)))]


def test_a_rotating_sender_flood_is_refused_and_others_keep_their_pace(stack):
    port = stack.rasa_port

    def normal_user(count: int, address: str) -> List[float]:
        # One address per phase: 30 messages in a few seconds is near a person's limit itself.
        sender, latencies = f"normal-{uuid.uuid4().hex[:8]}", []
        for _ in range(count):
            status, seconds, body = post(port, address, sender, QUESTION)
            assert status == 200 and ANSWER in body.decode(), (status, body[:300])
            latencies.append(seconds)
            time.sleep(0.05)
        return latencies

    normal_user(3, "127.0.0.5")  # warm up
    quiet = normal_user(30, "127.0.0.2")

    stop = threading.Event()
    statuses: List[int] = []

    def flooder() -> None:
        while not stop.is_set() and len(statuses) < 3000:
            statuses.append(post(port, "127.0.0.1", f"flood-{uuid.uuid4().hex}", QUESTION)[0])

    with ThreadPoolExecutor(32) as pool:
        started = time.monotonic()
        floods = [pool.submit(flooder) for _ in range(32)]
        time.sleep(1.0)  # the flood at full speed
        during = normal_user(30, "127.0.0.3")
        # At least 10 s of flood: refused requests are answered after a pause (channels/rest.py),
        # so the flood's share of refusals grows with its length.
        time.sleep(max(0.0, 10 - (time.monotonic() - started)))
        stop.set()
        for future in floods:
            future.result()

    refused, answered = statuses.count(429), statuses.count(200)
    flood_conversations = [s for s in stored_senders(stack) if s.startswith("flood-")]
    print(f"\nflood: {len(statuses)} requests, {refused} refused, {answered} answered; normal "
          f"user p95 quiet {p95(quiet) * 1000:.0f} ms (median {statistics.median(quiet) * 1000:.0f}), "
          f"during {p95(during) * 1000:.0f} ms (median {statistics.median(during) * 1000:.0f}); "
          f"{len(flood_conversations)} flood conversations stored")
    assert refused + answered == len(statuses)
    assert refused >= 0.8 * len(statuses), statuses  # most of the flood
    assert answered <= NEW_CONVERSATIONS
    # The tracker store does not grow with the flood: refused messages open no conversation.
    assert len(flood_conversations) == answered <= NEW_CONVERSATIONS
    assert p95(during) < 5 * p95(quiet), (p95(quiet), p95(during))


def test_the_refusal_is_a_429_with_retry_after(stack):
    status, _, body = post(stack.rasa_port, "127.0.0.1", f"flood-{uuid.uuid4().hex}", QUESTION)
    assert status == 429
    error = json.loads(body)
    assert "from this address" in error["error"]
    assert 1 <= error["retry_after"] <= 600


def test_a_client_that_opens_a_new_session_before_each_message_is_limited(stack):
    """socket.io through the trusted proxy (127.0.0.1) for a client at 198.51.100.7: a new
    session (new secret) before every message; after the limit, the polite message in English
    and nothing stored."""

    async def run() -> List[Tuple[str, List[str]]]:
        sessions, clients = [], []
        for n in range(NEW_CONVERSATIONS + 3):
            client = socketio.AsyncClient(reconnection=False)
            clients.append(client)
            replies: List[str] = []
            confirmed: List[str] = []
            client.on("bot_uttered", lambda data, r=replies: r.append(data.get("text", "")))
            client.on("session_confirm", lambda secret, c=confirmed: c.append(secret))
            await client.connect(stack.url, transports=["polling"], socketio_path="socket.io",
                                 headers={"Origin": WEB_ORIGIN, "X-Forwarded-For": "198.51.100.7"})
            await client.call("session_request", {"session_id": None}, timeout=30)
            # call() returns once the server has handled the message (its acknowledgement).
            await client.call("user_uttered", {"message": QUESTION, "session_id": confirmed[0],
                                               "customData": {"language": "en"}}, timeout=60)
            sessions.append((confirmed[0], replies))
        await asyncio.sleep(0.5)  # the last replies on their way
        # A polling client's disconnect waits for its pending long poll: all at once.
        await asyncio.gather(*(client.disconnect() for client in clients))
        return sessions

    sessions = asyncio.run(run())
    stored = set(stored_senders(stack))
    answered = [s for s, replies in sessions if any(ANSWER in r for r in replies)]
    refused = [s for s, replies in sessions if replies and replies[0].startswith(
        FACTS.message("slow_down", "en", seconds="")[:30])]
    assert len(answered) == NEW_CONVERSATIONS and len(refused) == 3, sessions
    assert {web_conversation_id(s) for s in answered} <= stored
    assert not {web_conversation_id(s) for s in refused} & stored


def test_forwarded_addresses_count_only_from_the_trusted_proxy(stack):
    port = stack.rasa_port
    # 127.0.0.1 has used its new conversations (the flood above); through it, as a proxy, another
    # client is a new address with its own allowance.
    status, _, body = post(port, "127.0.0.1", f"via-proxy-{uuid.uuid4().hex[:8]}", QUESTION,
                           {"X-Forwarded-For": "203.0.113.9"})
    assert status == 200 and ANSWER in body.decode()
    # From 127.0.0.4 (not a trusted proxy) the header changes nothing: a new forged address on
    # each request still counts as 127.0.0.4.
    statuses = [post(port, "127.0.0.4", f"forger-{n}-{uuid.uuid4().hex[:6]}", QUESTION,
                     {"X-Forwarded-For": f"192.0.2.{n}"})[0] for n in range(NEW_CONVERSATIONS + 2)]
    assert statuses == [200] * NEW_CONVERSATIONS + [429] * 2
