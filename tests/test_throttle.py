"""The per-sender limit (throttle/, called by channels/guard.py) on every channel, end to end.

One real Rasa server and action server with every channel of credentials.yml (Telegram and
WhatsApp against the stand-ins of their APIs), the limit set to LIMIT. The window is long
(10 minutes), so it cannot close during a test on a slow machine: every count below is exact.
The window's end itself is tested on the stores (memory and real Redis), where it is short.
Each webhook call and socket.io acknowledgement returns once the server has handled the message,
so "nothing more was sent" is checked after the server is done, not after a pause.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import pytest
import socketio

from privacy.pseudonym import pseudonym
from tests import facts_file
from tests.servers import ROOT, Stack, http, texts, web_conversation_id
from tests.standins import telegram_api as tg
from tests.standins import twilio_api as tw
from tests.standins.telegram_api import TelegramBotAPI
from tests.standins.twilio_api import SANDBOX_NUMBER, TwilioAPI
from throttle.limiter import Decision, Limit, MemoryStore, RedisStore, parse_limit

LIMIT = 5
WINDOW = 600
TOKEN = f"{random.randint(10**9, 10**10)}:AAH{secrets.token_urlsafe(30)}"
TG_SECRET = secrets.token_urlsafe(24)
ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
PUBLIC_URL = "https://bot.example.org/webhooks/whatsapp/webhook"
SENDER_KEY = secrets.token_hex(16)  # IOM_SENDER_KEY: WhatsApp and Telegram ids are pseudonyms
WEB_ORIGIN = "http://127.0.0.1:8080"
QUESTION_EN, ANSWER_EN = "Where is IOM's headquarters?", facts_file.text("headquarters", "short", "en")
QUESTION_FR, ANSWER_FR = "Où se trouve le siège de l'OIM ?", facts_file.text("headquarters", "short", "fr")


def slow_down(lang: str) -> str:
    return facts_file.message("slow_down", lang, seconds="")[:30]  # the text before the figure


# --- the stores ---------------------------------------------------------------------------


def test_limit_setting():
    assert parse_limit("20/30s") == Limit(20, 30)
    assert parse_limit("100/5m") == Limit(100, 300)
    assert parse_limit(" 5 / s ") == Limit(5, 1)
    assert parse_limit("off") is None and parse_limit("0") is None
    for bad in ("20", "x/30s", "20/0s", "-1/30s", "20/30 days"):
        with pytest.raises(ValueError):
            parse_limit(bad)


def test_memory_window_refuses_over_the_limit_tells_once_and_reopens():
    now = [1000.0]
    store = MemoryStore(clock=lambda: now[0])
    limit = Limit(3, 30)
    hits = [asyncio.run(store.hit("rest:a", limit)) for _ in range(6)]
    assert [d.allowed for d in hits] == [True, True, True, False, False, False]
    assert [d.first for d in hits] == [False, False, False, True, False, False]
    assert hits[3].retry_after == pytest.approx(30)
    assert asyncio.run(store.hit("rest:b", limit)).allowed, "another sender is not affected"
    now[0] += 29.9
    assert not asyncio.run(store.hit("rest:a", limit)).allowed
    now[0] += 0.2  # the window has closed
    assert asyncio.run(store.hit("rest:a", limit)) == Decision(True)


def test_memory_store_stays_bounded():
    now = [0.0]
    store = MemoryStore(max_senders=100, clock=lambda: now[0])
    for i in range(1000):
        asyncio.run(store.hit(f"rest:{i}", Limit(1, 30)))
        asyncio.run(store.new_conversation(f"seen:{i}", "conversations", Limit(2000, 60)))
        now[0] += 0.01
    assert len(store._windows) <= 2 * 100 + 1  # per window length: 100 at most


def redis_store(prefix: str) -> RedisStore:
    return RedisStore(os.environ.get("REDIS_HOST", "127.0.0.1"),
                      int(os.environ.get("REDIS_PORT", "6379")),
                      os.environ.get("REDIS_PASSWORD"), prefix=prefix)


def test_redis_window_is_shared_by_two_servers_and_reopens():
    """Two stores stand for two Rasa servers: one window per sender, whichever store counts."""
    prefix = f"iom:test-rate:{uuid.uuid4().hex}:"
    servers = [redis_store(prefix), redis_store(prefix)]
    limit = Limit(4, 0.5)

    async def run() -> List[Decision]:
        return [await servers[i % 2].hit("rest:a", limit) for i in range(7)]

    hits = asyncio.run(run())
    assert [d.allowed for d in hits] == [True] * 4 + [False] * 3
    assert [d.first for d in hits] == [False] * 4 + [True, False, False]
    assert 0 < hits[4].retry_after <= 0.5
    time.sleep(hits[-1].retry_after + 0.01)  # the key's own lifetime: then it is gone
    assert asyncio.run(servers[1].hit("rest:a", limit)).allowed


def test_unreachable_redis_lets_messages_through():
    store = RedisStore("127.0.0.1", port=1, prefix="iom:test-rate:")
    assert asyncio.run(store.hit("rest:a", Limit(1, 30))).allowed


# --- every channel, end to end -------------------------------------------------------------


@pytest.fixture(scope="module")
def telegram():
    standin = TelegramBotAPI(TOKEN, "IOMTestBot").start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def twilio():
    standin = TwilioAPI(ACCOUNT_SID, AUTH_TOKEN, SANDBOX_NUMBER).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, telegram, twilio):
    env = {
        "IOM_RATE_LIMIT": f"{LIMIT}/{WINDOW}s", "REDIS_HOST": "",  # one server: in memory
        "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
        "TELEGRAM_BOT_NAME": "IOMTestBot", "TELEGRAM_API_BASE_URL": telegram.url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": SANDBOX_NUMBER, "TWILIO_WEBHOOK_URL": PUBLIC_URL,
        "TWILIO_API_BASE_URL": twilio.url, "IOM_ALLOWED_ORIGINS": WEB_ORIGIN,
        "IOM_SENDER_KEY": SENDER_KEY,
    }
    credentials = (ROOT / "credentials.yml").read_text()
    running = Stack(tmp_path_factory.mktemp("throttle"), credentials=credentials, env=env).start()
    yield running
    running.stop()


def rest(stack: Stack, sender: str, text: str, metadata: Any = None) -> tuple:
    body: Dict[str, Any] = {"sender": sender, "message": text}
    if metadata is not None:
        body["metadata"] = metadata
    started = time.monotonic()
    status, raw = http("POST", stack.url + "/webhooks/rest/webhook", body, timeout=120)
    return status, json.loads(raw), time.monotonic() - started


def post_with_headers(url: str, body: Dict[str, Any]) -> tuple:
    request = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def conversation(channel: str, raw_id: Any) -> str:
    """The conversation id of a WhatsApp address or Telegram chat (privacy/pseudonym.py)."""
    return pseudonym(channel, raw_id, SENDER_KEY.encode())


def user_texts(stack: Stack, sender: str) -> List[str]:
    return [e["text"] for e in stack.tracker(sender)["events"] if e["event"] == "user"]


def rasa_cpu_seconds(stack: Stack) -> float:
    fields = open(f"/proc/{stack.rasa.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_rest_answers_429_with_retry_after_and_stores_nothing_over_the_limit(stack):
    sender = f"flood-{uuid.uuid4().hex[:8]}"
    answered = [rest(stack, sender, QUESTION_EN) for _ in range(LIMIT)]
    assert all(s == 200 and ANSWER_EN in texts(r) for s, r, _ in answered), answered
    for n in range(5):
        status, headers, body = post_with_headers(
            stack.url + "/webhooks/rest/webhook", {"sender": sender, "message": f"{QUESTION_EN} {n}"})
        assert status == 429, (status, body)
        retry_after = int(headers["Retry-After"])
        assert 1 <= retry_after <= WINDOW
        assert body["retry_after"] == retry_after and "too many messages" in body["error"]
    assert user_texts(stack, sender) == [QUESTION_EN] * LIMIT, "refused messages were stored"
    # Another sender is not affected.
    status, replies, _ = rest(stack, f"other-{uuid.uuid4().hex[:8]}", QUESTION_FR)
    assert status == 200 and ANSWER_FR in texts(replies)


def test_a_flood_from_one_sender_leaves_the_others_answered(stack):
    """200 messages from one sender, 20 at a time, while others talk. What would slow the others
    is the server's CPU: a refused message must cost a small part of an answered one."""
    flooder = f"flood-{uuid.uuid4().hex[:8]}"
    for _ in range(LIMIT):
        rest(stack, flooder, QUESTION_EN)
    others = [f"other-{i}-{uuid.uuid4().hex[:6]}" for i in range(4)]

    cpu_before = rasa_cpu_seconds(stack)
    answered = [rest(stack, sender, QUESTION_FR) for sender in others]
    cpu_per_answer = (rasa_cpu_seconds(stack) - cpu_before) / len(others)

    results: Dict[str, List[tuple]] = {}

    def talk(sender: str) -> None:
        results[sender] = [rest(stack, sender, text) for text in (QUESTION_EN, QUESTION_FR)]

    cpu_before = rasa_cpu_seconds(stack)
    with ThreadPoolExecutor(max_workers=20) as pool:
        flood = list(pool.map(lambda n: rest(stack, flooder, f"spam {n}")[0], range(200)))
    cpu_per_refusal = (rasa_cpu_seconds(stack) - cpu_before) / 200
    talkers = [threading.Thread(target=talk, args=(s,)) for s in others]
    with ThreadPoolExecutor(max_workers=20) as pool:
        for thread in talkers:
            thread.start()
        flood += list(pool.map(lambda n: rest(stack, flooder, f"spam {n}")[0], range(200)))
        for thread in talkers:
            thread.join(120)

    assert set(flood) == {429}
    for sender in others:
        assert [s for s, _, _ in results[sender]] == [200, 200], sender
        assert ANSWER_EN in texts(results[sender][0][1]) and ANSWER_FR in texts(results[sender][1][1])
    assert len(user_texts(stack, flooder)) == LIMIT
    print(f"\nCPU per answered message {cpu_per_answer * 1000:.1f} ms, per refused message "
          f"{cpu_per_refusal * 1000:.2f} ms; latency without flood "
          f"{max(t for _, _, t in answered):.2f} s, during "
          f"{max(t for r in results.values() for _, _, t in r):.2f} s (max)")
    assert cpu_per_refusal < 0.25 * cpu_per_answer, (cpu_per_refusal, cpu_per_answer)


def test_socketio_user_is_told_once_then_nothing(stack):
    async def run() -> tuple:
        client = socketio.AsyncClient(reconnection=False)
        received: List[Dict[str, Any]] = []
        client.on("bot_uttered", lambda data: received.append(data))
        confirmed: List[str] = []
        client.on("session_confirm", lambda secret: confirmed.append(secret))
        await client.connect(stack.url, headers={"Origin": WEB_ORIGIN}, transports=["polling"],
                             socketio_path="socket.io")
        await client.call("session_request", {"session_id": None}, timeout=30)
        session = confirmed[0]  # the session's secret, which the widget keeps
        for n in range(LIMIT + 6):
            # call() returns when the server has handled the message (its acknowledgement).
            await client.call("user_uttered", {"message": QUESTION_EN, "session_id": session,
                                               "customData": {"language": "en"}}, timeout=120)
        await client.disconnect()
        return session, received

    session, received = asyncio.run(run())
    bodies = [m.get("text", "") for m in received]
    assert sum(ANSWER_EN in b for b in bodies) == LIMIT, bodies
    # The notice once, in the page's language, and nothing after it.
    assert sum(b.startswith(slow_down("en")) for b in bodies) == 1, bodies
    assert bodies[-1].startswith(slow_down("en")), bodies
    assert user_texts(stack, web_conversation_id(session)) == [QUESTION_EN] * LIMIT


def telegram_post(stack: Stack, update: Dict[str, Any]) -> int:
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    return http("POST", stack.url + "/webhooks/telegram/webhook",
                raw=json.dumps(update).encode(), headers=headers)[0]


def test_telegram_user_is_told_once_in_their_language_then_nothing(stack, telegram):
    chat = random.randint(10**8, 2 * 10**9)
    for _ in range(LIMIT + 6):  # each call returns once the update is handled
        assert telegram_post(stack, tg.text_update(chat, QUESTION_FR, "fr")) == 200
    bodies = [m["text"] for m in telegram.sent_messages(chat)]
    assert sum(ANSWER_FR in b for b in bodies) == LIMIT, bodies
    assert sum(b.startswith(slow_down("fr")) for b in bodies) == 1, bodies
    assert len(bodies) == LIMIT + 1 and bodies[-1].startswith(slow_down("fr")), bodies
    assert user_texts(stack, conversation("telegram", chat)) == [QUESTION_FR] * LIMIT
    # A photo counts too: over the limit it gets no "text only" reply either.
    assert telegram_post(stack, tg.photo_update(chat, "fr")) == 200
    assert len(telegram.sent_messages(chat)) == LIMIT + 1


def whatsapp_post(stack: Stack, number: str, text: str) -> int:
    body, headers = tw.signed_request(PUBLIC_URL, tw.incoming(ACCOUNT_SID, number, body=text),
                                      AUTH_TOKEN)
    return http("POST", stack.url + "/webhooks/whatsapp/webhook", raw=body, headers=headers)[0]


def test_whatsapp_user_is_told_once_then_nothing(stack, twilio):
    number = str(random.randint(33600000000, 33799999999))
    for _ in range(LIMIT + 6):
        assert whatsapp_post(stack, number, QUESTION_EN) == 200
    bodies = [m["Body"] for m in twilio.sent_messages(f"whatsapp:+{number}")]
    assert sum(ANSWER_EN in b for b in bodies) == LIMIT, bodies
    # WhatsApp gives no language: the notice follows the language of the user's text.
    assert sum(b.startswith(slow_down("en")) for b in bodies) == 1, bodies
    assert bodies[-1].startswith(slow_down("en")), bodies
    assert len(bodies) == LIMIT + 1
    assert user_texts(stack, conversation("whatsapp", f"whatsapp:+{number}")) == [QUESTION_EN] * LIMIT
    # A photo counts too: over the limit it gets no "text only" reply either.
    body, headers = tw.signed_request(
        PUBLIC_URL, tw.incoming(ACCOUNT_SID, number, media=("image/jpeg", "ME" + "4" * 32)),
        AUTH_TOKEN)
    assert http("POST", stack.url + "/webhooks/whatsapp/webhook", raw=body, headers=headers)[0] == 200
    assert len(twilio.sent_messages(f"whatsapp:+{number}")) == LIMIT + 1


# --- issue 16: what is stored with a message; WhatsApp replies Twilio refuses ---------------


def test_metadata_stored_with_a_message_is_small(stack):
    sender = f"meta-{uuid.uuid4().hex[:8]}"
    metadata = {"language": "en", "message_id": "m-1", "blob": "x" * 900_000,
                "nested": {"a": [1, 2, 3]}, "password": "hunter2"}
    status, replies, _ = rest(stack, sender, QUESTION_EN, metadata)
    assert status == 200 and ANSWER_EN in texts(replies)
    [event] = [e for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    kept = {k: v for k, v in event["metadata"].items() if k not in ("model_id", "assistant_id")}
    assert kept == {"language": "en", "message_id": "m-1"}
    assert len(json.dumps(event["metadata"])) < 512


def test_whatsapp_reply_twilio_refuses_is_not_an_answer(stack, twilio):
    number = str(random.randint(33600000000, 33799999999))
    to = f"whatsapp:+{number}"
    twilio.refuse(to, 400, 21610, "Attempt to send to unsubscribed recipient")
    assert whatsapp_post(stack, number, QUESTION_EN) == 200
    refused = [m["Body"] for m in twilio.refused_messages(to)]
    # The answer was refused, so the guard tried the "unavailable" notice (refused too).
    assert ANSWER_EN in refused[0], refused
    assert any(facts_file.message("unavailable", "en") in b for b in refused[1:]), refused
    assert user_texts(stack, conversation("whatsapp", to)) == [QUESTION_EN], "the user's message is kept"


def test_whatsapp_reply_refused_as_too_many_requests_is_sent_again_once(stack, twilio):
    number = str(random.randint(33600000000, 33799999999))
    to = f"whatsapp:+{number}"
    twilio.refuse(to, 429, 20429, "Too Many Requests", times=1)
    assert whatsapp_post(stack, number, QUESTION_EN) == 200
    assert len(twilio.refused_messages(to)) == 1
    [delivered] = [m["Body"] for m in twilio.sent_messages(to)]
    assert ANSWER_EN in delivered and facts_file.message("unavailable", "en") not in delivered

