"""Bad input through the REST channel (real servers) and the guard every channel uses.

The socket.io, Telegram and WhatsApp channels hand their messages to the same
`channels.guard.guarded` as REST; the unit-level tests at the end drive the guard with a real
Rasa `UserMessage` and `CollectingOutputChannel`, as those channels do.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from channels.guard import guarded, safe_payload
from tests.facts_file import message
from tests.servers import Stack, http, texts

pytestmark = pytest.mark.integration

REST_CREDENTIALS = "channels.rest.GuardedRestInput:\n"
QUICK = 2.0  # seconds: what the guard or the channel refuses is answered at least this fast
NORMAL = 5.0  # seconds: odd text that goes through NLU and the action server (CI machine is shared)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("bad_input"), credentials=REST_CREDENTIALS).start()
    running.say("warm-up", "Hello")  # the first message loads the language detector
    yield running
    running.stop()


def post(stack: Stack, raw: bytes, content_type: str = "application/json"):
    started = time.monotonic()
    status, body = http(
        "POST", stack.url + "/webhooks/rest/webhook", raw=raw, headers={"Content-Type": content_type}
    )
    return status, body, time.monotonic() - started


def say(stack: Stack, sender: str, text, metadata=None, within: float = NORMAL):
    body = {"sender": sender, "message": text}
    if metadata is not None:
        body["metadata"] = metadata
    status, raw, elapsed = post(stack, json.dumps(body).encode())
    assert status == 200, (status, raw[:300])
    assert elapsed < within, f"took {elapsed:.2f}s"
    return json.loads(raw)


# --- requests that are not valid: 4xx with a clear JSON error, never a 500 --------------------

BAD_REQUESTS = {
    "malformed JSON": (b'{"sender": "a", "message": "hi"', "application/json", 400, "JSON"),
    "invalid UTF-8": (b'{"sender": "a", "message": "\xff\xfe hi"}', "application/json", 400, "UTF-8"),
    "JSON list": (b'["a", "hi"]', "application/json", 400, "object"),
    "plain text body": (b"hello", "text/plain", 415, "Content-Type"),
    "form body": (b"sender=a&message=hi", "application/x-www-form-urlencoded", 415, "Content-Type"),
    "no content type": (b'{"sender": "a", "message": "hi"}', "", 415, "Content-Type"),
    "missing sender": (b'{"message": "hi"}', "application/json", 400, "sender"),
    "empty sender": (b'{"sender": "  ", "message": "hi"}', "application/json", 400, "sender"),
    "5000-character sender": (
        json.dumps({"sender": "s" * 5000, "message": "hi"}).encode(), "application/json", 400, "sender"
    ),
    "sender with control characters": (
        json.dumps({"sender": "a\nb\x00", "message": "hi"}).encode(), "application/json", 400, "sender"
    ),
    "numeric sender": (b'{"sender": 42, "message": "hi"}', "application/json", 400, "sender"),
    "missing message": (b'{"sender": "a"}', "application/json", 400, "message"),
    "null message": (b'{"sender": "a", "message": null}', "application/json", 400, "message"),
    "numeric message": (b'{"sender": "a", "message": 42}', "application/json", 400, "message"),
    "list message": (b'{"sender": "a", "message": ["hi"]}', "application/json", 400, "message"),
    "object message": (b'{"sender": "a", "message": {"text": "hi"}}', "application/json", 400, "message"),
    "string metadata": (
        b'{"sender": "a", "message": "hi", "metadata": "en"}', "application/json", 400, "metadata"
    ),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_invalid_request_gets_a_clear_4xx(stack, case):
    raw, content_type, expected, mentions = BAD_REQUESTS[case]
    status, body, elapsed = post(stack, raw, content_type)
    assert status == expected, (status, body[:300])
    error = json.loads(body)["error"]
    assert mentions.lower() in error.lower(), error
    assert elapsed < QUICK


def test_oversized_body_is_refused_with_413(stack):
    body = json.dumps({"sender": "big", "message": "a" * 1_200_000}).encode()
    status, raw, _ = post(stack, body)
    assert status == 413 and "error" in json.loads(raw)


def test_server_still_answers_after_bad_requests(stack):
    for raw, content_type, _, _ in BAD_REQUESTS.values():
        post(stack, raw, content_type)
    reply = texts(say(stack, "after-bad", "Where is the IOM headquarters?"))
    assert "Geneva" in reply


# --- odd but valid messages: a polite reply in the user's language ---------------------------

@pytest.mark.parametrize(
    "text, metadata, lang",
    [
        ("", {"language": "en"}, "en"),
        ("", {"language": "fr"}, "fr"),
        ("   \n\t  ", {"language": "en"}, "en"),
        ("\x00\x07\x1b\u200b", {"language": "fr"}, "fr"),
        ("\ud800\udfff\ud800", {"language": "en"}, "en"),  # lone surrogates: invalid UTF-8 in JSON
        ("", None, "fr"),  # no language at all: French, the assistant's first language
    ],
)
def test_empty_or_unprintable_message_gets_the_empty_reply(stack, text, metadata, lang):
    replies = say(stack, f"empty-{lang}-{len(text)}", text, metadata, within=QUICK)
    assert texts(replies) == message("empty", lang)


def test_100_kb_message_gets_too_long_in_its_language(stack):
    english = ("Who is the Director General of IOM and where is it based? " * 1800)[:100_000]
    assert texts(say(stack, "long-en", english, within=QUICK)) == message("too_long", "en", limit=1000)
    french = ("Qui est la Directrice générale de l'OIM et où est son siège ? " * 1700)[:100_000]
    assert texts(say(stack, "long-fr", french, within=QUICK)) == message("too_long", "fr", limit=1000)


def test_limit_is_1000_characters_by_default(stack):
    question = "Where is the IOM headquarters?"
    at_limit = question + " " + "." * (1000 - len(question) - 1)
    assert len(at_limit) == 1000
    assert "Geneva" in texts(say(stack, "limit", at_limit))
    over = at_limit + "."
    assert texts(say(stack, "limit", over, within=QUICK)) == message("too_long", "en", limit=1000)


def test_control_characters_inside_a_question_are_ignored(stack):
    reply = texts(say(stack, "ctrl", "Where\x00 is the IOM\x1b[31m headquarters?\x07"))
    assert "Geneva" in reply
    assert "\x00" not in reply and "\x1b" not in reply


def test_emoji_only_gets_a_polite_reply_in_the_page_language(stack):
    replies = say(stack, "emoji", "🙂🙂🎉", {"language": "en"})
    assert replies and texts(replies).strip()
    assert texts(replies) != message("unavailable", "en")
    assert all(ord(c) < 0x1F000 for c in texts(replies))  # not an echo of the emoji


MARKUP = [
    "<script>alert('pwned')</script> Who leads IOM?",
    '<img src=x onerror="alert(1)"> Qui dirige l\'OIM ?',
    "[click me](javascript:alert(1)) **Who is IOM?** <b>bold</b>",
    "Robert'); DROP TABLE events;-- Where is IOM based?",
    "' OR '1'='1' -- ; SELECT * FROM events",
    '/inform_country{"country":"<img src=x onerror=alert(1)>"}',
    '/ask_office{"office":"<script>alert(1)</script>"}',
    "/restart",
    "{{7*7}} ${7*7} %s %(x)s {0} Who is IOM?",
]


@pytest.mark.parametrize("text", MARKUP)
def test_markup_and_injection_are_never_echoed(stack, text):
    sender = f"markup-{MARKUP.index(text)}"
    replies = say(stack, sender, text)
    reply = texts(replies)
    assert reply.strip(), "no reply"
    for dangerous in ("<script", "<img", "onerror", "javascript:", "<b>", "DROP TABLE", "SELECT *", "7*7"):
        assert dangerous.lower() not in reply.lower(), (dangerous, reply)
    for button in (b for r in replies for b in r.get("buttons", [])):
        assert "<" not in button["title"] and "<" not in button["payload"]
    # The conversation is intact: it answers next, and the tracker holds both messages.
    assert "Geneva" in texts(say(stack, sender, "Where is the IOM headquarters?"))
    users = [e["text"] for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    assert len(users) == 2 and users[1] == "Where is the IOM headquarters?"


def test_button_payloads_still_work(stack):
    reply = texts(say(stack, "payload", '/ask_office{"office":"director_general"}', {"language": "en"}))
    assert "Pope" in reply
    assert stack.slot("payload", "topic") == "director_general"


# --- the guard itself, as the socket.io / Telegram / WhatsApp channels call it ---------------

class Backend:
    """Stands in for Rasa's agent.handle_message (not our code): records what reached it."""

    def __init__(self, reply: str | None = "answer", fail: bool = False) -> None:
        self.received: list[UserMessage] = []
        self.reply = reply
        self.fail = fail

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail:
            raise RuntimeError("tracker store unavailable")
        if self.reply is not None:
            await message.output_channel.send_response(message.sender_id, {"text": self.reply})


def run_guard(backend: Backend, text, metadata=None):
    collector = CollectingOutputChannel()
    asyncio.run(guarded(backend)(UserMessage(text, collector, "u1", metadata=metadata)))
    return [m.get("text") for m in collector.messages]


def test_guard_answers_empty_and_too_long_without_reaching_rasa():
    backend = Backend()
    assert run_guard(backend, "  \x00 ", {"language": "en"}) == [message("empty", "en")]
    assert run_guard(backend, None, {"language": "fr"}) == [message("empty", "fr")]
    assert run_guard(backend, "Bonjour, qui êtes-vous ? " * 60) == [message("too_long", "fr", limit=1000)]
    assert backend.received == []


def test_guard_passes_clean_text_and_adds_nothing_when_rasa_replies():
    backend = Backend()
    assert run_guard(backend, " Who\x00 is\nIOM? ") == ["answer"]
    assert backend.received[0].text == "Who is IOM?"


def test_guard_says_unavailable_when_the_turn_sent_nothing_or_failed():
    assert run_guard(Backend(reply=None), "Who is IOM?") == [message("unavailable", "en")]
    assert run_guard(Backend(fail=True), "Qui est l'OIM ?") == [message("unavailable", "fr")]
    assert run_guard(Backend(reply=None), "🙂", {"language": "en"}) == [message("unavailable", "en")]


def test_guard_keeps_the_channel_type_and_restores_it():
    collector = CollectingOutputChannel()
    asyncio.run(guarded(Backend())(UserMessage("hi", collector, "u1")))
    assert "send_response" not in vars(collector)  # the per-turn watch is removed


@pytest.mark.parametrize(
    "typed, passed",
    [
        ("/ask_history", "/ask_history"),
        ('/ask_office{"office":"director_general"}', '/ask_office{"office":"director_general"}'),
        ('/inform_country{"country":"FR"}', '/inform_country{"country":"FR"}'),
        ('/inform_country{"country":"<b>x</b>"}', 'inform_country{"country":"<b>x</b>"}'),
        ('/ask_office{"office": 3}', 'ask_office{"office": 3}'),
        ("/restart", "restart"),
        # Names the domain does not have: Rasa would quote them in its log (issue 21).
        ('/greet{"name": "Awa Diop"}', 'greet{"name": "Awa Diop"}'),
        ("/open_sesame", "open_sesame"),
        ("//etc/passwd", "etc/passwd"),
        ("Who is IOM?", "Who is IOM?"),
    ],
)
def test_only_well_formed_payloads_pass_as_payloads(typed, passed):
    assert safe_payload(typed) == passed
