"""Telegram channel end to end: Telegram-shaped updates POSTed to the real Rasa server's webhook
(with the real action server behind it), replies read from a local stand-in of the Bot API.

Nothing of ours is mocked: the Rasa server loads `channels.telegram.TelegramInput` from the
project's credentials.yml and is configured only through the TELEGRAM_* environment variables,
as in production; only api.telegram.org is replaced (TELEGRAM_API_BASE_URL).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import time
from typing import Any, Dict, List

import pytest

from actions.facts import FactStore
from privacy.pseudonym import pseudonym
from tests.servers import BIN, ROOT, Stack, http
from tests.standins import telegram_api as tg
from tests.standins.telegram_api import TelegramBotAPI

pytestmark = pytest.mark.integration

TOKEN = f"{random.randint(10**9, 10**10)}:AAH{secrets.token_urlsafe(30)}"
SECRET = secrets.token_urlsafe(24)
BOT_NAME = "IOMTestBot"
SENDER_KEY = secrets.token_hex(16)
FACTS = FactStore().current()


@pytest.fixture(scope="module")
def api():
    standin = TelegramBotAPI(TOKEN, BOT_NAME).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, api):
    env = {
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_BOT_NAME": BOT_NAME,
        "TELEGRAM_API_BASE_URL": api.url,
        # The WhatsApp channel is in credentials.yml too, but not configured here.
        "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "TWILIO_WHATSAPP_NUMBER": "",
        "IOM_SENDER_KEY": SENDER_KEY,  # the key of the chats' pseudonyms
    }
    credentials = (ROOT / "credentials.yml").read_text()
    running = Stack(tmp_path_factory.mktemp("telegram"), credentials=credentials, env=env).start()
    yield running
    running.stop()


def conversation(chat: int) -> str:
    """The conversation id Rasa keeps a chat's messages under (privacy/pseudonym.py)."""
    return pseudonym("telegram", chat, SENDER_KEY.encode())


def new_chat() -> int:
    return random.randint(10**8, 2 * 10**9)


def post(stack: Stack, update: Dict[str, Any], secret: Any = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    status, _ = http(
        "POST", stack.url + "/webhooks/telegram/webhook", raw=json.dumps(update).encode(),
        headers=headers,
    )
    return status


def replies(api: TelegramBotAPI, chat: int, count: int = 1) -> List[Dict[str, Any]]:
    api.wait_for(lambda _: len(api.sent_messages(chat)) >= count, what=f"{count} message(s) to {chat}")
    return api.sent_messages(chat)


def keyboard(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button for row in rows for button in row]


def short(fact_id: str, lang: str) -> str:
    return FACTS.text(fact_id, "short", lang)


@pytest.mark.parametrize(
    "language_code, greeting, lang",
    [
        ("fr", FACTS.message("greet", "fr"), "fr"),
        ("en", FACTS.message("greet", "en"), "en"),
        ("es", FACTS.message("greet", "es"), "es"),
        ("es-419", FACTS.message("greet", "es"), "es"),  # Latin American Spanish
        ("pt-br", FACTS.message("greet", "fr"), "fr"),  # not one of ours: French, the first language
    ],
)
def test_start_greets_with_topic_buttons_in_the_users_language(
    stack, api, language_code, greeting, lang
):
    chat = new_chat()
    assert post(stack, tg.text_update(chat, "/start", language_code)) == 200
    [reply] = replies(api, chat)
    assert reply["text"] == greeting
    buttons = keyboard(reply)
    assert len(buttons) >= 3, reply
    titles = [b["text"] for b in buttons]
    assert FACTS.text("identity", "title", lang) in titles
    assert all(b["callback_data"].startswith("/ask_") for b in buttons)


def test_french_user_gets_the_french_fact(stack, api):
    chat = new_chat()
    assert post(stack, tg.text_update(chat, "Où se trouve le siège de l'OIM ?", "fr")) == 200
    [reply] = replies(api, chat)
    assert short("headquarters", "fr") in reply["text"]  # "... à Genève, en Suisse."
    assert keyboard(reply), "related topics come as an inline keyboard"


def test_english_user_gets_the_english_fact(stack, api):
    chat = new_chat()
    assert post(stack, tg.text_update(chat, "Where is IOM's headquarters?", "en")) == 200
    [reply] = replies(api, chat)
    assert short("headquarters", "en") in reply["text"]


def test_language_code_sets_the_first_language_of_a_button_press(stack, api):
    # A button payload says nothing about the language: the Telegram language_code decides.
    for code, lang in (("en", "en"), ("fr", "fr"), ("es", "es")):
        chat = new_chat()
        assert post(stack, tg.callback_update(chat, "/ask_headquarters", code)) == 200
        [reply] = replies(api, chat)
        assert short("headquarters", lang) in reply["text"], (code, reply["text"])


def test_button_press_is_answered_and_processed_as_its_payload(stack, api):
    chat = new_chat()
    assert post(stack, tg.text_update(chat, "/start", "fr")) == 200
    [greeting] = replies(api, chat)
    button = next(b for b in keyboard(greeting) if b["callback_data"] == "/ask_identity")

    query_id = str(random.randint(10**18, 9 * 10**18))
    update = tg.callback_update(chat, button["callback_data"], "fr", query_id=query_id)
    assert post(stack, update) == 200
    answered = api.wait_for(
        lambda calls: any(c.method == "answerCallbackQuery" for c in calls
                          if c.params.get("callback_query_id") == query_id),
        what="answerCallbackQuery",
    )
    assert answered
    reply = replies(api, chat, 2)[1]
    assert short("identity", "fr")[:60] in reply["text"]


def test_follow_up_keeps_the_conversation(stack, api):
    chat = new_chat()
    post(stack, tg.text_update(chat, "Qui dirige l'OIM aujourd'hui ?", "fr"))
    post(stack, tg.text_update(chat, "source ?", "fr"))
    first, second = replies(api, chat, 2)[:2]
    assert "Amy E. Pope" in first["text"]
    assert "https://www.iom.int/" in second["text"]
    assert stack.slot(conversation(chat), "topic") == "director_general"


def test_spanish_user_gets_spanish_answers_buttons_and_follow_ups(stack, api):
    """A Telegram app set to Spanish: the greeting, a question typed without accents, its topic
    buttons, a pressed button and the follow-ups all in Spanish, citing the Spanish page."""
    chat = new_chat()
    assert post(stack, tg.text_update(chat, "/start", "es")) == 200
    [greeting] = replies(api, chat)
    assert greeting["text"] == FACTS.message("greet", "es")
    assert FACTS.text("identity", "title", "es") in [b["text"] for b in keyboard(greeting)]

    post(stack, tg.text_update(chat, "donde queda la sede de la oim", "es"))
    answer = replies(api, chat, 2)[1]
    assert short("headquarters", "es") in answer["text"]  # "... en Ginebra, Suiza."
    assert "Fuente (información de 2025): https://www.iom.int/iom-organizational-structure" in answer["text"]
    titles = [b["text"] for b in keyboard(answer)]
    assert FACTS.text("presence", "title", "es") in titles

    button = next(b for b in keyboard(answer) if b["text"] == FACTS.text("presence", "title", "es"))
    post(stack, tg.callback_update(chat, button["callback_data"], "es"))
    pressed = replies(api, chat, 3)[2]
    assert short("presence", "es") in pressed["text"]

    post(stack, tg.text_update(chat, "de donde sacas ese dato", "es"))
    source = replies(api, chat, 4)[3]
    assert source["text"].startswith("Fuentes (información de 2025):\nhttps://www.iom.int/country-offices\n")
    assert "\nhttps://www.iom.int/es/quienes-somos" in source["text"]
    assert stack.slot(conversation(chat), "topic") == "presence"
    assert stack.slot(conversation(chat), "language") == "es"


def test_a_spanish_message_from_a_french_telegram_app_is_answered_in_spanish(stack, api):
    chat = new_chat()
    post(stack, tg.text_update(chat, "hola, quien esta al frente de la oim ahora", "fr"))
    [reply] = replies(api, chat)
    assert short("director_general", "es") in reply["text"]


@pytest.mark.parametrize("secret", [None, "wrong-secret", SECRET + "x", ""])
def test_update_without_the_right_secret_is_refused_and_not_processed(stack, api, secret):
    chat = new_chat()
    status = post(stack, tg.text_update(chat, "Où se trouve le siège de l'OIM ?", "fr"), secret)
    assert status in (401, 403)
    assert status == (401 if not secret else 403)
    time.sleep(1.0)
    assert api.sent_messages(chat) == []
    events = stack.tracker(conversation(chat)).get("events") or []
    assert not [e for e in events if e.get("event") == "user"], "nothing reached Rasa"


@pytest.mark.parametrize(
    "make_update",
    [tg.photo_update, tg.sticker_update, tg.location_update],
    ids=["photo", "sticker", "location"],
)
def test_messages_without_text_get_a_polite_reply(stack, api, make_update):
    for code, opening, words in (
        ("fr", "Désolé", "messages texte"), ("en", "Sorry", "text messages"),
        ("es", "Lo siento", "mensajes de texto"),
    ):
        chat = new_chat()
        assert post(stack, make_update(chat, code)) == 200
        [reply] = replies(api, chat)
        assert reply["text"].startswith(opening) and words in reply["text"], reply["text"]


def test_edited_message_gets_a_polite_reply(stack, api):
    chat = new_chat()
    assert post(stack, tg.edited_update(chat, "Où est le siège ?", "en")) == 200
    [reply] = replies(api, chat)
    assert "edited" in reply["text"] and "new message" in reply["text"]


def test_updates_for_nobody_are_acknowledged_silently(stack, api):
    chat = new_chat()
    before = len(api.snapshot("sendMessage"))
    assert post(stack, tg.channel_post_update()) == 200
    assert post(stack, tg.unknown_update(chat)) == 200
    time.sleep(1.0)
    assert len(api.snapshot("sendMessage")) == before


def test_malformed_bodies_get_4xx_never_500(stack, api):
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    url = stack.url + "/webhooks/telegram/webhook"
    assert http("POST", url, raw=b"{not json", headers=headers)[0] == 400
    assert http("POST", url, raw=b"[1, 2]", headers=headers)[0] == 400
    # A message with no chat, or text that is not a string: acknowledged, nothing sent.
    assert post(stack, {"update_id": 1, "message": {"message_id": 1, "text": "hi"}}) == 200
    assert post(stack, {"update_id": 2, "message": {"chat": {"id": 5, "type": "private"},
                                                     "text": {"x": 1}}}) == 200
    # A repeated update (Telegram re-sends when it got no 2xx in time) is processed once.
    chat = new_chat()
    update = tg.text_update(chat, "Où se trouve le siège de l'OIM ?", "fr")
    assert post(stack, update) == 200 and post(stack, update) == 200
    replies(api, chat)
    time.sleep(0.5)
    assert len(api.sent_messages(chat)) == 1


def test_empty_text_is_answered_by_the_guard(stack, api):
    chat = new_chat()
    assert post(stack, tg.text_update(chat, "   ", "fr")) == 200
    [reply] = replies(api, chat)
    assert reply["text"] == FACTS.message("empty", "fr")


def test_whatsapp_is_disabled_without_its_variables(stack):
    status, _ = http("POST", stack.url + "/webhooks/whatsapp/webhook", raw=b"Body=hi",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 404


def test_set_webhook_command_registers_the_secret(api):
    env = {**os.environ, "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
           "TELEGRAM_API_BASE_URL": api.url, "RASA_TELEMETRY_ENABLED": "false"}
    url = "https://bot.example.org/webhooks/telegram/webhook"
    done = subprocess.run(
        [str(BIN / "python"), "scripts/telegram_webhook.py", "set-webhook", url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [call] = api.snapshot("setWebhook")
    assert call.params["url"] == url and call.params["secret_token"] == SECRET
    assert "callback_query" in call.params["allowed_updates"]
    assert api.webhook["url"] == url
