"""WhatsApp numbers and Telegram chat ids are kept nowhere: only their keyed pseudonyms
(privacy/pseudonym.py, used by channels/whatsapp.py and channels/telegram.py).

Unit tests of the pseudonym and of `make forget` with a number or chat id; then one real Rasa
server and action server, both at DEBUG log level (where Rasa logs every conversation id), with
WhatsApp and Telegram configured from the environment against the stand-ins of Twilio and the
Bot API (tests/standins/), and the per-sender limit in the real Redis. After conversations
through both channels (a numbered choice, a button press, a reply Twilio refuses quoting the
number, floods, Rasa's HTTP API asking to send to a pseudonym), the tracker store (the SQLite
file read back), both servers' logs and the limit's Redis keys hold no number and no chat id in
any form, while the replies reached the right number and chat.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import secrets
import shutil
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

from privacy.pseudonym import (
    PseudonymError,
    candidates,
    canonical,
    channel_of,
    pseudonym,
    sender_key,
)
from tests import facts_file
from tests.servers import BIN, ROOT, Stack, http
from tests.standins import telegram_api as tg
from tests.standins import twilio_api as tw
from tests.standins.telegram_api import TelegramBotAPI
from tests.standins.twilio_api import SANDBOX_NUMBER, TwilioAPI
from tests.tracker_seed import Conversation, save, sqlite_store



# --- the pseudonym ---------------------------------------------------------------------------


def test_forget_finds_a_web_chat_conversation_from_the_browsers_session_id():
    """The widget keeps the session's secret in localStorage; the conversation is stored under
    `web-` and the first 32 hex digits of SHA-256("web\\n" + secret) (docs/privacy.md)."""
    import hashlib

    from privacy.pseudonym import candidates

    secret = secrets.token_urlsafe(32)
    channel, ids, missing = candidates(secret)
    expected = "web-" + hashlib.sha256(f"web\n{secret}".encode()).hexdigest()[:32]
    assert (channel, ids[0], missing) == ("web chat", expected, [])

def test_pseudonym_is_stable_short_and_names_its_channel():
    key = b"a key for the tests"
    first = pseudonym("whatsapp", "whatsapp:+33612345678", key)
    assert first == pseudonym("whatsapp", "whatsapp:+33612345678", key)
    assert re.fullmatch(r"wa-[0-9a-f]{32}", first), first
    assert re.fullmatch(r"tg-[0-9a-f]{32}", pseudonym("telegram", 123456789, key))
    # Nothing of the number is in it.
    assert "612345678" not in first and "3361234" not in first


def test_each_way_of_writing_an_id_gives_the_same_pseudonym():
    key = b"k"
    number = pseudonym("whatsapp", "whatsapp:+33612345678", key)
    for written in ("+33612345678", "+33 6 12 34 56 78", "0033612345678", "whatsapp:+33 6-12-34-56-78",
                    " WhatsApp:+33612345678 ", "33612345678"):
        assert pseudonym("whatsapp", written, key) == number, written
    assert pseudonym("telegram", 123456789, key) == pseudonym("telegram", "123456789", key)
    assert pseudonym("telegram", -1001234567890, key) == pseudonym("telegram", " -1001234567890", key)
    assert canonical("whatsapp", "whatsapp:+33612345678") == "+33612345678"


def test_pseudonym_depends_on_the_key_the_channel_and_the_person():
    one, other = b"key one", b"key two"
    assert pseudonym("whatsapp", "+33612345678", one) != pseudonym("whatsapp", "+33612345678", other)
    assert pseudonym("whatsapp", "+33612345678", one) != pseudonym("whatsapp", "+33612345679", one)
    assert pseudonym("telegram", 123456789, one) != pseudonym("telegram", 123456788, one)
    # The same digits on both channels are two people: not only the prefix differs.
    assert pseudonym("whatsapp", "+123456789", one)[3:] != pseudonym("telegram", 123456789, one)[3:]


def test_key_is_iom_sender_key_else_the_channels_secret(monkeypatch):
    monkeypatch.delenv("IOM_SENDER_KEY", raising=False)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "twilio-secret")
    monkeypatch.setenv("TELEGRAM_TOKEN", "telegram-secret")
    assert sender_key("whatsapp") == b"twilio-secret"
    assert sender_key("telegram") == b"telegram-secret"
    assert pseudonym("whatsapp", "+33612345678") == pseudonym("whatsapp", "+33612345678", b"twilio-secret")
    monkeypatch.setenv("IOM_SENDER_KEY", "shared-key")
    assert sender_key("whatsapp") == sender_key("telegram") == b"shared-key"
    assert pseudonym("telegram", 42) == pseudonym("telegram", 42, b"shared-key")
    monkeypatch.delenv("IOM_SENDER_KEY")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    with pytest.raises(PseudonymError, match="IOM_SENDER_KEY"):
        pseudonym("whatsapp", "+33612345678")


def test_not_an_id_of_the_channel_is_refused():
    for channel, raw in (("whatsapp", "hello"), ("whatsapp", "+33 6x"), ("telegram", "12a"),
                         ("telegram", ""), ("rest", "x")):
        with pytest.raises(PseudonymError):
            pseudonym(channel, raw, b"k")


def test_what_an_operator_types_is_read_as_the_right_channel():
    assert channel_of("whatsapp:+33612345678") == channel_of("+33 6 12 34 56 78") == "whatsapp"
    assert channel_of("123456789") == channel_of("telegram:123456789") == channel_of("-100123") == "telegram"
    for plain in ("rest-user", "3f2a9c0e4b7d4e1f9a8b7c6d5e4f3a2b", "wa-" + "0" * 32, "me"):
        assert channel_of(plain) is None, plain


def test_forget_candidates(monkeypatch):
    monkeypatch.setenv("IOM_SENDER_KEY", "shared-key")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "twilio-secret")
    channel, ids, missing = candidates("+33 6 12 34 56 78")
    assert channel == "whatsapp" and missing == []
    # As typed, as stored before pseudonyms, and under both keys (IOM_SENDER_KEY set later).
    assert ids == ["+33 6 12 34 56 78", "whatsapp:+33612345678",
                   pseudonym("whatsapp", "+33612345678", b"shared-key"),
                   pseudonym("whatsapp", "+33612345678", b"twilio-secret")]
    assert candidates("rest-user") == (None, ["rest-user"], [])
    monkeypatch.delenv("IOM_SENDER_KEY")
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    assert candidates("telegram:42") == ("telegram", ["telegram:42", "42"], ["IOM_SENDER_KEY", "TELEGRAM_TOKEN"])


def test_pseudonym_command_prints_a_persons_conversation_id():
    env = {**os.environ, "IOM_SENDER_KEY": "shared-key"}
    done = subprocess.run([str(BIN / "python"), "-m", "privacy.pseudonym", "whatsapp:+33612345678"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == pseudonym("whatsapp", "+33612345678", b"shared-key")


# --- make forget with a number or a chat id (SQLite, no servers) ----------------------------------


def make_forget(endpoints: Path, sender: str, env: Dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("IOM_SENDER_KEY", "TWILIO_AUTH_TOKEN", "TELEGRAM_TOKEN")}
    return subprocess.run(
        ["make", "-s", "forget", f"ENDPOINTS={endpoints}", f"SENDER={sender}"],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )


def sqlite_senders(db: Path) -> Dict[str, int]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute("SELECT sender_id, count(*) FROM events GROUP BY sender_id"))


@pytest.fixture
def seeded(tmp_path):
    now = time.time()
    key = b"the servers' key"
    db = tmp_path / "tracker.db"
    senders = {
        "wa": pseudonym("whatsapp", "+33612345678", key),
        "wa_legacy": "whatsapp:+33612345678",  # stored before pseudonyms
        "wa_other": pseudonym("whatsapp", "+33698765432", key),
        "tg": pseudonym("telegram", 5550001234567, key),
        "rest": "rest-user",
    }
    save(sqlite_store(db), [Conversation(s, now - 3600).turn("Bonjour", "greet", 0.9) for s in senders.values()])
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: server.tracker_store.WindowedSQLTrackerStore\n"
                         f"  dialect: sqlite\n  db: {db}\n")
    return db, endpoints, senders, key


def test_make_forget_with_a_whatsapp_number(seeded):
    db, endpoints, senders, key = seeded
    result = make_forget(endpoints, "+33 6 12 34 56 78", {"IOM_SENDER_KEY": key.decode()})
    assert result.returncode == 0, result.stderr
    left = sqlite_senders(db)
    assert senders["wa"] not in left and senders["wa_legacy"] not in left
    assert set(left) == {senders["wa_other"], senders["tg"], senders["rest"]}
    assert f"Deleted the conversation '{senders['wa']}'" in result.stdout


def test_make_forget_with_a_telegram_chat_id_and_the_bot_token_as_key(tmp_path):
    db = tmp_path / "tracker.db"
    token = f"{random.randint(10**9, 10**10)}:{secrets.token_urlsafe(24)}"  # a bot token's shape
    mine, other = pseudonym("telegram", 5550001234567, token.encode()), pseudonym("telegram", 77, token.encode())
    save(sqlite_store(db), [Conversation(s, time.time() - 60).turn("hola", "greet", 0.9) for s in (mine, other)])
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: sql\n  dialect: sqlite\n  db: {db}\n")
    result = make_forget(endpoints, "5550001234567", {"TELEGRAM_TOKEN": token})
    assert result.returncode == 0, result.stderr
    assert set(sqlite_senders(db)) == {other}


def test_make_forget_without_the_key_says_what_to_set_and_keeps_the_conversation(seeded):
    db, endpoints, senders, _ = seeded
    result = make_forget(endpoints, "whatsapp:+33612345678", {})
    assert result.returncode != 0
    assert "IOM_SENDER_KEY" in result.stderr and "TWILIO_AUTH_TOKEN" in result.stderr
    left = sqlite_senders(db)
    assert senders["wa"] in left  # could not be found without the key...
    assert senders["wa_legacy"] not in left  # ...while the raw-id conversation could


def test_make_forget_with_a_plain_conversation_id_as_before(seeded):
    db, endpoints, senders, _ = seeded
    for plain in ("rest-user", senders["tg"]):
        result = make_forget(endpoints, plain, {})
        assert result.returncode == 0, result.stderr
        assert plain not in sqlite_senders(db)
    assert len(sqlite_senders(db)) == 3


# --- end to end: real servers, both channels, DEBUG logs ------------------------------------------

SENDER_KEY = secrets.token_hex(16)
TG_TOKEN = f"{random.randint(10**9, 10**10)}:AAH{secrets.token_urlsafe(30)}"
TG_SECRET = secrets.token_urlsafe(24)
ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
PUBLIC_URL = "https://bot.example.org/webhooks/whatsapp/webhook"
LIMIT = 4
RATE_PREFIX = f"iom:test-pseudonym:{uuid.uuid4().hex}:"
QUESTION_EN, ANSWER_EN = "Where is IOM's headquarters?", facts_file.text("headquarters", "short", "en")


def new_number() -> str:
    """A French mobile number's digits (11: such a run does not turn up in logs by chance)."""
    return "33" + str(random.randint(600000000, 799999999))


def new_chat() -> int:
    """A Telegram user id as they are now, up to 52 bits (13 to 16 digits here)."""
    return random.randint(10**12, 2**52)


def wa(number: str) -> str:
    return pseudonym("whatsapp", f"whatsapp:+{number}", SENDER_KEY.encode())


def tgp(chat: int) -> str:
    return pseudonym("telegram", chat, SENDER_KEY.encode())


def wa_post(stack: Stack, number: str, text: str, **extra: Any) -> int:
    body, headers = tw.signed_request(PUBLIC_URL, tw.incoming(ACCOUNT_SID, number, body=text, **extra),
                                      AUTH_TOKEN)
    return http("POST", stack.url + "/webhooks/whatsapp/webhook", raw=body, headers=headers)[0]


def tg_post(stack: Stack, update: Dict[str, Any]) -> int:
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    return http("POST", stack.url + "/webhooks/telegram/webhook", raw=json.dumps(update).encode(),
                headers=headers)[0]


def keyboard(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [b for row in (message.get("reply_markup") or {}).get("inline_keyboard") or [] for b in row]


def redis_client():
    import redis

    return redis.Redis(host=os.environ.get("REDIS_HOST") or "127.0.0.1",
                       port=int(os.environ.get("REDIS_PORT") or 6379),
                       password=os.environ.get("REDIS_PASSWORD") or None, db=1)


def fact_with_title(title: str, lang: str) -> str:
    return next(f for f in facts_file.fact_ids() if facts_file.text(f, "title", lang) == title)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Every conversation of this module, done once; returns what the tests look at."""
    telegram = TelegramBotAPI(TG_TOKEN, "IOMTestBot").start()
    twilio = TwilioAPI(ACCOUNT_SID, AUTH_TOKEN, SANDBOX_NUMBER).start()
    workdir = tmp_path_factory.mktemp("pseudonym")
    env = {
        "IOM_SENDER_KEY": SENDER_KEY,
        "TELEGRAM_TOKEN": TG_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
        "TELEGRAM_BOT_NAME": "IOMTestBot", "TELEGRAM_API_BASE_URL": telegram.url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": SANDBOX_NUMBER, "TWILIO_WEBHOOK_URL": PUBLIC_URL,
        "TWILIO_API_BASE_URL": twilio.url,
        # The per-sender limit in the real Redis, under keys of this module only.
        "IOM_RATE_LIMIT": f"{LIMIT}/600s", "REDIS_HOST": os.environ.get("REDIS_HOST") or "127.0.0.1",
        "IOM_RATE_LIMIT_PREFIX": RATE_PREFIX,
    }
    stack = Stack(workdir, credentials=(ROOT / "credentials.yml").read_text(), env=env,
                  extra_rasa_args=["--debug"], extra_actions_args=["--debug"])
    people = {"wa": new_number(), "refused": new_number(), "flood": new_number(), "calm": new_number(),
              "tg": new_chat(), "tg_flood": new_chat()}
    seen: Dict[str, Any] = {"people": people, "workdir": workdir, "stack": stack,
                            "twilio": twilio, "telegram": telegram}
    try:
        stack.start()
        # WhatsApp: a greeting with numbered topics, "2", a question.
        me = people["wa"]
        assert wa_post(stack, me, "Bonjour") == 200
        twilio.wait_for(lambda _: len(twilio.sent_messages(f"whatsapp:+{me}")) >= 1, what="greeting")
        assert wa_post(stack, me, "2") == 200
        twilio.wait_for(lambda _: len(twilio.sent_messages(f"whatsapp:+{me}")) >= 2, what="choice 2")
        seen["wa_topic"] = stack.slot(wa(me), "topic")
        assert wa_post(stack, me, "Qui dirige l'OIM ?") == 200
        # A reply Twilio refuses, its error quoting the number (as Twilio's 21211 does).
        to = f"whatsapp:+{people['refused']}"
        twilio.refuse(to, 400, 21211, f"The 'To' number {to} is not a valid phone number.")
        assert wa_post(stack, people["refused"], QUESTION_EN) == 200
        # Per-person limit: one number floods, another writes meanwhile; a photo counts too.
        for _ in range(LIMIT + 3):
            assert wa_post(stack, people["flood"], QUESTION_EN) == 200
        assert wa_post(stack, people["calm"], QUESTION_EN) == 200
        assert wa_post(stack, people["flood"], "", media=("image/jpeg", "ME" + "5" * 32)) == 200

        # Telegram: /start, a button press, a question; another chat floods.
        chat = people["tg"]
        assert tg_post(stack, tg.text_update(chat, "/start", "fr")) == 200
        [greeting] = telegram.sent_messages(chat)
        seen["tg_greeting"] = greeting
        button = next(b for b in keyboard(greeting) if b["callback_data"] == "/ask_identity")
        assert tg_post(stack, tg.callback_update(chat, button["callback_data"], "fr")) == 200
        assert tg_post(stack, tg.text_update(chat, "Qui dirige l'OIM ?", "fr")) == 200
        seen["tg_topic"] = stack.slot(tgp(chat), "topic")
        for _ in range(LIMIT + 3):
            assert tg_post(stack, tg.text_update(people["tg_flood"], QUESTION_EN, "en")) == 200
        assert tg_post(stack, tg.photo_update(people["tg_flood"], "en")) == 200

        # Rasa's HTTP API asks to send to a pseudonym: no address is known, nothing goes out.
        before = (len(twilio.snapshot("Messages")), len(telegram.snapshot("sendMessage")))
        for sender in (wa(me), tgp(chat)):
            status, body = http("POST", f"{stack.url}/conversations/{sender}/trigger_intent"
                                f"?output_channel=latest&token={stack.token}", {"name": "greet"})
            seen.setdefault("trigger_status", []).append(status)
        seen["sent_by_api"] = (len(twilio.snapshot("Messages")) - before[0],
                               len(telegram.snapshot("sendMessage")) - before[1])
        client = redis_client()
        seen["redis_keys"] = sorted(k.decode() for k in client.scan_iter(match=RATE_PREFIX + "*"))
        for key in seen["redis_keys"]:
            client.delete(key)
    finally:
        stack.stop()
        telegram.stop()
        twilio.stop()
    return seen


def raw_forms(run: Dict[str, Any]) -> List[str]:
    """Every way a number or chat id of this module could be written."""
    forms = []
    for name, raw in run["people"].items():
        if name.startswith("tg"):
            forms += [str(raw)]
        else:
            forms += [f"whatsapp:+{raw}", f"+{raw}", raw, f"whatsapp%3A%2B{raw}", f"%2B{raw}"]
    return forms


def rows(db: Path) -> List[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT sender_id, type_name, data FROM events").fetchall()


@pytest.mark.integration
def test_replies_reached_the_right_number_and_chat(run):
    twilio, telegram, people = run["twilio"], run["telegram"], run["people"]
    me = people["wa"]
    greeting, choice, leader = [m["Body"] for m in twilio.sent_messages(f"whatsapp:+{me}")][:3]
    assert facts_file.message("greet", "fr") in greeting
    # The numbered choice "2" still picks the second topic of the list.
    second = re.search(r"^2\. (.+)$", greeting, re.MULTILINE).group(1)
    topic = fact_with_title(second, "fr")
    assert facts_file.text(topic, "short", "fr")[:60] in choice
    assert run["wa_topic"] == topic
    assert "Amy E. Pope" in leader
    # Every message went to a real address, none to a pseudonym.
    addresses = {c.params.get("To") for c in twilio.snapshot("Messages")}
    assert addresses == {f"whatsapp:+{people[p]}" for p in ("wa", "refused", "flood", "calm")}

    chat = people["tg"]
    texts = [m["text"] for m in telegram.sent_messages(chat)]
    assert texts[0] == facts_file.message("greet", "fr")
    assert facts_file.text("identity", "short", "fr")[:60] in texts[1]
    assert "Amy E. Pope" in texts[2] and run["tg_topic"] == "director_general"
    chats = {str(c.params.get("chat_id")) for c in telegram.snapshot("sendMessage")}
    assert chats == {str(people["tg"]), str(people["tg_flood"])}


@pytest.mark.integration
def test_the_limit_applies_per_person(run):
    twilio, telegram, people = run["twilio"], run["telegram"], run["people"]
    slow_en = facts_file.message("slow_down", "en", seconds="")[:30]
    flood = [m["Body"] for m in twilio.sent_messages(f"whatsapp:+{people['flood']}")]
    assert sum(ANSWER_EN in b for b in flood) == LIMIT and len(flood) == LIMIT + 1, flood
    assert flood[-1].startswith(slow_en)  # told once; the photo after it got nothing
    [calm] = [m["Body"] for m in twilio.sent_messages(f"whatsapp:+{people['calm']}")]
    assert ANSWER_EN in calm  # another number is not affected
    tg_flood = [m["text"] for m in telegram.sent_messages(people["tg_flood"])]
    assert sum(ANSWER_EN in t for t in tg_flood) == LIMIT and len(tg_flood) == LIMIT + 1, tg_flood
    stored = [(s, json.loads(d)["text"]) for s, kind, d in rows(run["workdir"] / "tracker.db") if kind == "user"]
    assert [t for s, t in stored if s == wa(people["flood"])] == [QUESTION_EN] * LIMIT
    assert [t for s, t in stored if s == tgp(people["tg_flood"])] == [QUESTION_EN] * LIMIT
    # The windows are kept in Redis under a digest of each channel and pseudonym (throttle/:
    # the first 32 hex digits of SHA-256 of "channel\npseudonym"), one per person.
    def key(channel: str, conversation: str) -> str:
        digest = hashlib.sha256(f"{channel}\n{conversation}".encode()).hexdigest()[:32]
        return f"{RATE_PREFIX}sender:{digest}"

    assert set(run["redis_keys"]) == (
        {key("whatsapp", wa(people[p])) for p in ("wa", "refused", "flood", "calm")}
        | {key("telegram", tgp(people[p])) for p in ("tg", "tg_flood")}
    )


@pytest.mark.integration
def test_tracker_store_holds_pseudonyms_and_no_number_or_chat_id(run):
    stored = rows(run["workdir"] / "tracker.db")
    people = run["people"]
    expected = {wa(people[p]) for p in ("wa", "refused", "flood", "calm")} | {tgp(people[p]) for p in ("tg", "tg_flood")}
    assert {s for s, _, _ in stored} == expected
    everything = "\n".join(f"{s}\t{d}" for s, _, d in stored)
    assert [form for form in raw_forms(run) if form in everything] == []


@pytest.mark.integration
def test_logs_and_redis_keys_hold_no_number_or_chat_id(run):
    logs = {name: (run["workdir"] / name).read_text(errors="replace") for name in ("rasa.log", "actions.log")}
    leaks = [(name, form) for name, text in logs.items() for form in raw_forms(run) if form in text]
    assert leaks == []
    assert [form for form in raw_forms(run) if any(form in key for key in run["redis_keys"])] == []
    people = run["people"]
    # The check means something: at DEBUG, Rasa names each conversation (lock, tracker store)...
    assert wa(people["wa"]) in logs["rasa.log"] and tgp(people["tg"]) in logs["rasa.log"]
    # ...and Twilio's refusal, which quoted the number, is logged with the pseudonym instead.
    assert f"The 'To' number {wa(people['refused'])} is not a valid phone number" in logs["rasa.log"]


@pytest.mark.integration
def test_rasa_http_api_cannot_send_to_a_pseudonym(run):
    assert run["trigger_status"] == [200, 200]
    assert run["sent_by_api"] == (0, 0)
    log = (run["workdir"] / "rasa.log").read_text(errors="replace")
    assert "No WhatsApp address for conversation" in log and "No Telegram chat for conversation" in log


@pytest.mark.integration
def test_make_forget_removes_that_persons_conversation(run, tmp_path):
    db = tmp_path / "tracker.db"
    shutil.copy(run["workdir"] / "tracker.db", db)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: server.tracker_store.WindowedSQLTrackerStore\n"
                         f"  dialect: sqlite\n  db: {db}\n")
    people = run["people"]
    before = sqlite_senders(db)
    result = make_forget(endpoints, f"whatsapp:+{people['wa']}", {"IOM_SENDER_KEY": SENDER_KEY})
    assert result.returncode == 0, result.stderr
    assert set(sqlite_senders(db)) == set(before) - {wa(people["wa"])}
    result = make_forget(endpoints, str(people["tg"]), {"IOM_SENDER_KEY": SENDER_KEY})
    assert result.returncode == 0, result.stderr
    assert sqlite_senders(db) == {s: n for s, n in before.items() if s not in (wa(people["wa"]), tgp(people["tg"]))}
