"""WhatsApp through Twilio end to end: Twilio-shaped, signed webhook requests POSTed to the real
Rasa server (real action server behind it); replies read from a local stand-in of Twilio's REST
API. The channel is `channels.whatsapp.WhatsAppInput` from the project's credentials.yml,
configured only through TWILIO_* environment variables; only api.twilio.com is replaced.
"""

from __future__ import annotations

import random
import secrets
import time
from typing import Any, Dict, List, Optional

import pytest

from actions.facts import FactStore
from privacy.pseudonym import pseudonym
from tests.servers import ROOT, Stack, http
from tests.standins import twilio_api as tw
from tests.standins.twilio_api import SANDBOX_NUMBER, TwilioAPI

pytestmark = pytest.mark.integration

ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
# The server sits behind a reverse proxy: Twilio signs the public URL, not the one Rasa sees.
PUBLIC_URL = "https://bot.example.org/webhooks/whatsapp/webhook"
FACTS = FactStore().current()


@pytest.fixture(scope="module")
def api():
    standin = TwilioAPI(ACCOUNT_SID, AUTH_TOKEN, SANDBOX_NUMBER).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, api):
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": SANDBOX_NUMBER,
        "TWILIO_WEBHOOK_URL": PUBLIC_URL,
        "TWILIO_API_BASE_URL": api.url,
        "TELEGRAM_TOKEN": "",  # Telegram is in credentials.yml too, but not configured here
        "IOM_SENDER_KEY": "",  # the senders' pseudonyms are keyed by the auth token
    }
    credentials = (ROOT / "credentials.yml").read_text()
    running = Stack(tmp_path_factory.mktemp("whatsapp"), credentials=credentials, env=env).start()
    yield running
    running.stop()


def conversation(number: str) -> str:
    """The conversation id Rasa keeps a number's messages under (privacy/pseudonym.py)."""
    return pseudonym("whatsapp", f"whatsapp:+{number}", AUTH_TOKEN.encode())


def new_number() -> str:
    return str(random.randint(33600000000, 33799999999))


def post(stack: Stack, fields: Dict[str, str], token: str = AUTH_TOKEN,
         signed_url: str = PUBLIC_URL, signature: Optional[str] = "computed") -> int:
    body, headers = tw.signed_request(signed_url, fields, token)
    if signature is None:
        del headers["X-Twilio-Signature"]
    elif signature != "computed":
        headers["X-Twilio-Signature"] = signature
    status, _ = http("POST", stack.url + "/webhooks/whatsapp/webhook", raw=body, headers=headers)
    return status


def replies(api: TwilioAPI, number: str, count: int = 1) -> List[Dict[str, Any]]:
    to = f"whatsapp:+{number}"
    api.wait_for(lambda _: len(api.sent_messages(to)) >= count, what=f"{count} message(s) to {to}")
    return api.sent_messages(to)


def say(stack: Stack, number: str, text: str, **extra: Any) -> int:
    return post(stack, tw.incoming(ACCOUNT_SID, number, body=text, **extra))


def test_french_question_gets_the_french_fact(stack, api):
    me = new_number()
    assert say(stack, me, "Où se trouve le siège de l'OIM ?") == 200
    [reply] = replies(api, me)
    assert FACTS.text("headquarters", "short", "fr") in reply["Body"]
    assert reply["From"] == SANDBOX_NUMBER and reply["To"] == f"whatsapp:+{me}"


def test_english_question_gets_the_english_fact(stack, api):
    me = new_number()
    assert say(stack, me, "Where is IOM's headquarters?") == 200
    [reply] = replies(api, me)
    assert FACTS.text("headquarters", "short", "en") in reply["Body"]


def test_buttons_become_a_numbered_list_and_a_number_picks_one(stack, api):
    me = new_number()
    assert say(stack, me, "Bonjour") == 200
    [greeting] = replies(api, me)
    assert FACTS.message("greet", "fr") in greeting["Body"]
    first_title = FACTS.text("identity", "title", "fr")
    assert f"1. {first_title}" in greeting["Body"], greeting["Body"]
    assert "Répondez par un numéro" in greeting["Body"]

    assert say(stack, me, "1") == 200
    answer = replies(api, me, 2)[1]
    assert FACTS.text("identity", "short", "fr")[:60] in answer["Body"]
    assert stack.slot(conversation(me), "topic") == "identity"


def test_spanish_conversation_with_numbered_buttons_and_follow_ups(stack, api):
    me = new_number()
    assert say(stack, me, "Hola") == 200
    [greeting] = replies(api, me)
    assert FACTS.message("greet", "es") in greeting["Body"]
    assert f"1. {FACTS.text('identity', 'title', 'es')}" in greeting["Body"], greeting["Body"]
    assert "Responda con un número:" in greeting["Body"]

    assert say(stack, me, "1") == 200  # a number: the conversation stays in Spanish
    answer = replies(api, me, 2)[1]
    assert FACTS.text("identity", "short", "es")[:60] in answer["Body"]
    assert "Fuente (información de 2025): https://www.iom.int/es/quienes-somos" in answer["Body"]
    assert "Responda con un número:" in answer["Body"]

    assert say(stack, me, "y eso desde cuando?") == 200
    since = replies(api, me, 3)[2]
    assert FACTS.text("identity", "since", "es") in since["Body"]
    assert stack.slot(conversation(me), "language") == "es"


@pytest.mark.parametrize(
    "how",
    ["missing", "wrong token", "garbage", "local url instead of public one", "tampered body"],
)
def test_request_without_a_valid_signature_is_refused_and_nothing_sent(stack, api, how):
    me = new_number()
    fields = tw.incoming(ACCOUNT_SID, me, body="Où se trouve le siège de l'OIM ?")
    if how == "missing":
        status = post(stack, fields, signature=None)
    elif how == "wrong token":
        status = post(stack, fields, token=secrets.token_hex(16))
    elif how == "garbage":
        status = post(stack, fields, signature="bm90IGEgc2lnbmF0dXJl")
    elif how == "local url instead of public one":
        status = post(stack, fields, signed_url=stack.url + "/webhooks/whatsapp/webhook")
    else:
        body, headers = tw.signed_request(PUBLIC_URL, fields, AUTH_TOKEN)
        body = body.replace(b"si%C3%A8ge", b"directeur")
        status = http("POST", stack.url + "/webhooks/whatsapp/webhook", raw=body, headers=headers)[0]
    assert status == (401 if how == "missing" else 403)
    time.sleep(1.0)
    assert api.sent_messages(f"whatsapp:+{me}") == []
    events = stack.tracker(conversation(me)).get("events") or []
    assert not [e for e in events if e.get("event") == "user"], "nothing reached Rasa"


@pytest.mark.parametrize(
    "extra",
    [
        {"media": ("image/jpeg", "ME" + "1" * 32)},
        {"media": ("audio/ogg", "ME" + "2" * 32)},
        {"location": (46.2044, 6.1432)},
    ],
    ids=["photo", "voice note", "location"],
)
def test_media_only_message_gets_a_polite_reply(stack, api, extra):
    me = new_number()
    assert post(stack, tw.incoming(ACCOUNT_SID, me, body="", **extra)) == 200
    [reply] = replies(api, me)
    # WhatsApp gives no language and there is no text: the reply says it in all three.
    assert "messages texte" in reply["Body"] and "text messages" in reply["Body"]
    assert "mensajes de texto" in reply["Body"]


def test_caption_of_a_picture_is_read_as_the_question(stack, api):
    me = new_number()
    fields = tw.incoming(ACCOUNT_SID, me, body="Where is IOM's headquarters?",
                         media=("image/png", "ME" + "3" * 32))
    assert post(stack, fields) == 200
    [reply] = replies(api, me)
    assert FACTS.text("headquarters", "short", "en") in reply["Body"]


def test_message_for_another_account_is_refused(stack, api):
    me = new_number()
    fields = tw.incoming("AC" + secrets.token_hex(16), me, body="Bonjour")
    assert post(stack, fields) == 403
    time.sleep(0.5)
    assert api.sent_messages(f"whatsapp:+{me}") == []


def test_telegram_is_disabled_without_its_token(stack):
    status, _ = http("POST", stack.url + "/webhooks/telegram/webhook", body={"update_id": 1})
    assert status == 404
    # ...and the rest of the assistant works as usual.
    assert stack.say("rest-user", "Bonjour")
