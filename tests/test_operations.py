"""Monitoring (docs/operating.md, "Monitoring"; the contract's "Operations"), end to end on real
servers.

The real Rasa server with every channel of the project's credentials.yml (REST, socket.io through
python-socketio's client, Telegram and WhatsApp through the local stand-ins of their APIs, and
the operations endpoints), the real action server behind it. The test scrapes both metrics ports
as Prometheus would and checks that the counters and the histogram move with messages of each
channel and language, that no label holds text, a sender id or a country, that /ready follows
the action server, and that a metrics port already taken does not stop the assistant.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import socket
import time
from typing import Dict, FrozenSet, Tuple

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests import facts_file
from tests.servers import ROOT, Stack, free_port, http, socketio_conversation
from tests.standins import telegram_api as tg
from tests.standins import twilio_api as tw
from tests.standins.telegram_api import TelegramBotAPI
from tests.standins.twilio_api import SANDBOX_NUMBER, TwilioAPI

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

TELEGRAM_TOKEN = f"{random.randint(10**9, 10**10)}:AAH{secrets.token_urlsafe(30)}"
TELEGRAM_SECRET = secrets.token_urlsafe(24)
TWILIO_SID = "AC" + secrets.token_hex(16)
TWILIO_TOKEN = secrets.token_hex(16)
WHATSAPP_URL = "https://bot.example.org/webhooks/whatsapp/webhook"
RATE_LIMIT = 3  # messages per minute and sender, so that one sender can be throttled quickly

Samples = Dict[Tuple[str, FrozenSet[Tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    status, body = http("GET", f"http://127.0.0.1:{port}/metrics")
    assert status == 200, body[:300]
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture(scope="module")
def telegram():
    standin = TelegramBotAPI(TELEGRAM_TOKEN, "IOMTestBot").start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def twilio():
    standin = TwilioAPI(TWILIO_SID, TWILIO_TOKEN, SANDBOX_NUMBER).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def origin() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, telegram, twilio, origin):
    env = {
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_BOT_NAME": "IOMTestBot", "TELEGRAM_API_BASE_URL": telegram.url,
        "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": SANDBOX_NUMBER, "TWILIO_WEBHOOK_URL": WHATSAPP_URL,
        "TWILIO_API_BASE_URL": twilio.url, "IOM_SENDER_KEY": secrets.token_hex(16),
        "IOM_ALLOWED_ORIGINS": origin, "IOM_RATE_LIMIT": f"{RATE_LIMIT}/60s",
    }
    credentials = (ROOT / "credentials.yml").read_text()
    assert "server.operations.OperationsEndpoints" in yaml.safe_load(credentials)
    running = Stack(tmp_path_factory.mktemp("operations"), credentials=credentials, env=env).start()
    yield running
    running.stop()


def scrape_both(stack: Stack) -> Tuple[Samples, Samples]:
    return scrape(stack.metrics_port), scrape(stack.metrics_port + 1)


def sender() -> str:
    return "ops-" + secrets.token_hex(6)


# --- the channels ---------------------------------------------------------------------------------

def say_rest(stack: Stack, text: str, who: str = "") -> str:
    replies = stack.say(who or sender(), text)
    return "\n".join(r.get("text", "") for r in replies)


def say_socketio(stack: Stack, origin: str, text: str) -> str:
    replies = asyncio.run(socketio_conversation(stack.url, origin, None, [text], {"language": "en"}))
    return "\n".join(r.get("text", "") for r in replies)


def say_telegram(stack: Stack, api: TelegramBotAPI, text: str, language_code: str) -> str:
    chat = random.randint(10**8, 2 * 10**9)
    status, _ = http("POST", stack.url + "/webhooks/telegram/webhook",
                     raw=json.dumps(tg.text_update(chat, text, language_code)).encode(),
                     headers={"Content-Type": "application/json",
                              "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert status == 200
    api.wait_for(lambda _: api.sent_messages(chat), what=f"a reply to chat {chat}")
    return api.sent_messages(chat)[0]["text"]


def say_whatsapp(stack: Stack, api: TwilioAPI, text: str) -> str:
    number = str(random.randint(33600000000, 33799999999))
    body, headers = tw.signed_request(WHATSAPP_URL, tw.incoming(TWILIO_SID, number, text), TWILIO_TOKEN)
    status, _ = http("POST", stack.url + "/webhooks/whatsapp/webhook", raw=body, headers=headers)
    assert status == 200
    to = f"whatsapp:+{number}"
    api.wait_for(lambda _: api.sent_messages(to), what=f"a reply to {to}")
    return api.sent_messages(to)[0]["Body"]


def short(fact_id: str, lang: str) -> str:
    return facts_file.text(fact_id, "short", lang)


# --- /ready and /live -------------------------------------------------------------------------------

def test_ready_and_live_answer_200_with_json_when_everything_is_up(stack):
    status, body = http("GET", stack.url + "/ready")
    assert (status, json.loads(body)) == (200, {"ready": True, "reasons": []})
    status, body = http("GET", stack.url + "/live")
    assert (status, json.loads(body)) == (200, {"live": True})
    rasa, _ = scrape_both(stack)
    assert value(rasa, "iom_ready") == 1.0


# --- counters and histogram, by channel and language ----------------------------------------------

def test_each_channel_and_language_moves_the_counters_and_the_histogram(stack, telegram, twilio, origin):
    rasa_before, actions_before = scrape_both(stack)

    assert short("headquarters", "fr") in say_rest(stack, "Où se trouve le siège de l'OIM ?")
    assert short("director_general", "en") in say_rest(stack, "Who is the Director General of IOM?")
    assert short("headquarters", "es") in say_rest(stack, "¿Dónde está la sede de la OIM?")
    assert short("headquarters", "en") in say_socketio(stack, origin, "Where is IOM's headquarters?")
    assert short("headquarters", "es") in say_telegram(stack, telegram, "¿Dónde está la sede de la OIM?", "es")
    assert short("headquarters", "fr") in say_whatsapp(stack, twilio, "Où se trouve le siège de l'OIM ?")

    rasa, actions = scrape_both(stack)
    expected = {("rest", "fr"): 1, ("rest", "en"): 1, ("rest", "es"): 1, ("socketio", "en"): 1,
                ("telegram", "es"): 1, ("whatsapp", "fr"): 1}
    for channel in ("rest", "socketio", "telegram", "whatsapp"):
        for language in ("fr", "en", "es"):
            assert moved(rasa_before, rasa, "iom_messages_total", channel=channel, language=language) \
                == expected.get((channel, language), 0), (channel, language)
    for channel, count in (("rest", 3), ("socketio", 1), ("telegram", 1), ("whatsapp", 1)):
        assert moved(rasa_before, rasa, "iom_reply_seconds_count", channel=channel) == count, channel
        assert moved(rasa_before, rasa, "iom_reply_seconds_sum", channel=channel) > 0, channel
        assert moved(rasa_before, rasa, "iom_reply_seconds_bucket", channel=channel, le="+Inf") == count
        # Every turn took less than the action timeout (5 s): counted in the 5 s bucket too.
        assert moved(rasa_before, rasa, "iom_reply_seconds_bucket", channel=channel, le="5.0") == count
    assert moved(actions_before, actions, "iom_answers_total", topic="headquarters") == 5
    assert moved(actions_before, actions, "iom_answers_total", topic="director_general") == 1
    assert sum(moved(rasa_before, rasa, "iom_action_errors_total", kind=kind) for kind in
               ("unreachable", "timeout", "server_error", "rejected", "invalid_response", "other")) == 0


def test_not_understood_counts_in_the_language_of_the_reply(stack):
    rasa_before, before = scrape_both(stack)
    me = sender()
    # A message this model reads as nlu_fallback (tests/test_conversation.py checks it is).
    assert say_rest(stack, "the office thing", me).startswith("Sorry, I'm not sure I understood")
    assert stack.tracker(me)["latest_message"]["intent"]["name"] == "nlu_fallback"
    rasa, after = scrape_both(stack)
    assert moved(before, after, "iom_not_understood_total", language="en") == 1
    assert moved(before, after, "iom_not_understood_total", language="fr") == 0
    assert moved(rasa_before, rasa, "iom_messages_total", channel="rest", language="en") == 1


def test_redactions_count_by_kind(stack):
    before, _ = scrape_both(stack)
    say_rest(stack, "Qui dirige l'OIM ? Mon numéro : 06 12 34 56 78, mon mail : awa.diop@gmail.com")
    after, _ = scrape_both(stack)
    assert moved(before, after, "iom_redactions_total", kind="phone") == 1
    assert moved(before, after, "iom_redactions_total", kind="email") == 1
    assert moved(before, after, "iom_redactions_total", kind="number") == 0


def test_throttled_messages_count_by_channel_and_not_as_messages(stack):
    before, _ = scrape_both(stack)
    me = sender()
    for _ in range(RATE_LIMIT):
        say_rest(stack, "Bonjour", me)
    status, _ = http("POST", stack.url + "/webhooks/rest/webhook", {"sender": me, "message": "Bonjour"})
    assert status == 429
    after, _ = scrape_both(stack)
    assert moved(before, after, "iom_throttled_total", channel="rest") == 1
    assert moved(before, after, "iom_messages_total", channel="rest", language="fr") == RATE_LIMIT
    assert moved(before, after, "iom_reply_seconds_count", channel="rest") == RATE_LIMIT


# --- labels ---------------------------------------------------------------------------------------

LABEL_VALUES = {
    "channel": {"rest", "socketio", "telegram", "whatsapp", "cmdline", "other"},
    "language": {"fr", "en", "es", "other"},
    "kind": {"email", "phone", "number", "name", "address", "birthdate", "unreachable", "timeout",
             "server_error", "rejected", "invalid_response", "other"},
    "topic": set(facts_file.fact_ids()),
    "le": None,  # histogram bucket bounds: numbers
}


def test_no_label_holds_message_text_sender_or_country(stack, telegram):
    me = "ops-sender-7f3a9c"
    text = "Le Sénégal est-il un État membre de l'OIM ?"
    say_rest(stack, text, me)
    assert stack.slot(me, "country") == "SN" and stack.slot(me, "topic") == "member_states"
    say_telegram(stack, telegram, "Is Japan a member of IOM?", "en")
    rasa, actions = scrape_both(stack)
    assert value(actions, "iom_answers_total", topic="member_states") >= 2  # the answers were counted
    values = set()
    for name, labels in list(rasa) + list(actions):
        assert name.startswith("iom_"), name  # the contract: names start with iom_
        for label, label_value in labels:
            assert label in LABEL_VALUES, (name, label)
            allowed = LABEL_VALUES[label]
            if allowed is None:
                float(label_value)
            else:
                assert label_value in allowed, (name, label, label_value)
            values.add(label_value.lower())
    words = {w.strip("?'").lower() for w in (text + " Is Japan a member of IOM?").split()} - {"", "a", "l"}
    forbidden = words | {me.lower(), "sn", "jp", "senegal", "sénégal", "japan", "japon"}
    assert not values & forbidden, values & forbidden


# --- the action server stops and comes back ---------------------------------------------------------

def wait_for_status(url: str, status: int, within: float) -> Tuple[float, bytes]:
    """Polls `url` every 100 ms; returns (seconds it took, body) once it answers `status`."""
    started = time.monotonic()
    while True:
        got, body = http("GET", url, timeout=5)
        elapsed = time.monotonic() - started
        if got == status:
            return elapsed, body
        assert elapsed < within, f"{url} still answers {got} after {elapsed:.1f} s: {body[:200]!r}"
        time.sleep(0.1)


def test_ready_follows_the_action_server_and_failures_are_counted(stack):
    # A load balancer polling every 100 ms, as the test does, is answered from the cache.
    wait_for_status(stack.url + "/ready", 200, 5)
    before = scrape(stack.metrics_port)
    stack.stop_actions()
    took, body = wait_for_status(stack.url + "/ready", 503, 5)
    reasons = json.loads(body)
    assert reasons["ready"] is False and any("action server" in r for r in reasons["reasons"]), reasons
    assert value(scrape(stack.metrics_port), "iom_ready") == 0.0
    # A message meanwhile: the polite "unavailable" reply, and one unreachable action call.
    assert facts_file.message("unavailable", "fr") in say_rest(stack, "Où se trouve le siège de l'OIM ?")
    after = scrape(stack.metrics_port)
    assert moved(before, after, "iom_action_errors_total", kind="unreachable") == 1
    assert http("GET", stack.url + "/live")[0] == 200  # alive all the while

    stack.start_actions()  # returns once the action server answers its /health
    back, _ = wait_for_status(stack.url + "/ready", 200, 5)
    assert value(scrape(stack.metrics_port), "iom_ready") == 1.0
    print(f"/ready: 503 {took:.2f} s after the action server stopped, 200 {back:.2f} s after it was back")


# --- a metrics port already taken ---------------------------------------------------------------------

def test_a_taken_metrics_port_is_logged_and_the_assistant_goes_on(tmp_path):
    taken = []
    for _ in range(20):  # two consecutive ports held by someone else
        first = socket.socket()
        first.bind(("127.0.0.1", 0))
        port = first.getsockname()[1]
        second = socket.socket()
        try:
            second.bind(("127.0.0.1", port + 1))
        except OSError:
            first.close()
            second.close()
            continue
        taken = [first, second]
        break
    for sock in taken:
        sock.listen()
    config = yaml.safe_load((ROOT / "credentials.yml").read_text())
    credentials = yaml.safe_dump({name: value for name, value in config.items()
                                  if name.endswith(("GuardedRestInput", "OperationsEndpoints"))})
    running = Stack(tmp_path, credentials=credentials, env={"IOM_METRICS_PORT": str(port)})
    try:
        running.start()
        assert short("headquarters", "en") in say_rest(running, "Where is IOM's headquarters?")
        assert http("GET", running.url + "/ready")[0] == 200
    finally:
        running.stop()
        for sock in taken:
            sock.close()
    rasa_log = (tmp_path / "rasa.log").read_text()
    actions_log = (tmp_path / "actions.log").read_text()
    assert f"Metrics of the Rasa server NOT exposed: cannot listen on 127.0.0.1:{port}" in rasa_log
    assert f"Metrics of the action server NOT exposed: cannot listen on 127.0.0.1:{port + 1}" in actions_log
