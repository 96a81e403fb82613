"""Telegram channel, configured only from the environment.

Rasa 3.6's own Telegram channel (rasa.core.channels.telegram) is subclassed and fixed:

* it called the real Bot API at start-up (`setWebhook`) inside `asyncio.run`, which bound the
  aiohttp session to a throw-away event loop, so every later call failed with
  "Event loop is closed". Here nothing is called at start-up; the session is created lazily in
  the server's loop and closed in that same loop when the server stops. The webhook is
  registered once, by hand (`python -m channels.telegram set-webhook URL`, see docs/operating.md,
  "Connect to Telegram").
* its `verify` check authenticated nothing (and cost a `getMe` call per update). Every update
  must now carry Telegram's `X-Telegram-Bot-Api-Secret-Token` header equal to
  TELEGRAM_WEBHOOK_SECRET (compared in constant time): missing -> 401, wrong -> 403, and nothing
  is processed or sent.
* the Bot API base URL is configurable (TELEGRAM_API_BASE_URL) for a self-hosted Bot API server.
* updates it could not handle (photos, stickers, edited messages...) crashed or vanished; they
  now get a polite text reply (or a silent 200 for channel posts and other update types).
* the chat id (a stable account id) never reaches Rasa: the conversation id is its keyed
  pseudonym (privacy/pseudonym.py, `tg-` + 32 hex digits), which is what the tracker store, the
  logs and the throttle see. The output made for one update holds the real chat id in memory and
  sends that turn's replies to it, whatever id Rasa gives. aiogram's own DEBUG lines (each
  request and answer, with the chat id and the user's name) are kept out of the logs.

Environment:
  TELEGRAM_TOKEN            bot token from @BotFather; without it the channel is disabled
                            (its webhook answers 404) and the assistant runs without Telegram.
  TELEGRAM_WEBHOOK_SECRET   secret_token given to setWebhook (1-256 chars of A-Z a-z 0-9 _ -).
  TELEGRAM_BOT_NAME         the bot's username (to understand "/start@IOMBot" in groups).
  TELEGRAM_API_BASE_URL     default https://api.telegram.org.
  IOM_SENDER_KEY            key of the senders' pseudonyms (default: TELEGRAM_TOKEN).

Behaviour: `/start` greets (with topic buttons, sent as an inline keyboard); pressing a button
answers the callback query and sends its payload to Rasa; the user's Telegram `language_code`
goes to Rasa as message metadata {"language": code}, which sets the conversation's first language.
"""

from __future__ import annotations

import copy
import hmac
import json
import logging
import re
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from aiogram.bot.api import TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from rasa.core.channels.telegram import TelegramOutput as RasaTelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

import throttle
from actions.language import normalise_language
from channels.guard import channel_text, guarded
from channels.messaging import env, split_text
from privacy.pseudonym import pseudonym, sender_key
from privacy.redact import redact
from server import drain, internals

logger = logging.getLogger(__name__)
# aiogram logs every request's parameters and every answer at DEBUG: the real chat id, the
# user's name, the reply. `rasa run --debug` would write them all to the log.
logging.getLogger("aiogram").setLevel(logging.INFO)

DEFAULT_API_BASE_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Telegram's limit for one message's text.
MAX_TEXT = 4096
# Update types Telegram sends to the webhook that we ask for (see set-webhook below).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
# Telegram re-sends an update when the webhook did not answer 2xx in time: skip repeats.
SEEN_UPDATES = 2048


class UnknownChat(TelegramAPIError):
    """A reply for a conversation whose chat this output does not know (nothing is sent)."""


class TelegramOutput(RasaTelegramOutput):
    """Rasa's Telegram output with a configurable API server and one message per reply.

    The copy made for one update (`for_turn`) knows one chat: its real id, in memory for this
    turn only, and the pseudonym Rasa knows it by. Every Bot API call goes through `request`,
    which puts the real chat id in place of the pseudonym; a call for any other chat is refused."""

    def __init__(self, access_token: Text, api_base_url: Text = DEFAULT_API_BASE_URL) -> None:
        # Rasa's __init__ takes only the token; call aiogram's Bot directly to pass the server.
        super(RasaTelegramOutput, self).__init__(
            access_token, server=TelegramAPIServer.from_base(api_base_url), timeout=30
        )
        self._owner: Optional["TelegramOutput"] = None
        self._chat_id: Optional[int] = None
        self._conversation_id: Optional[Text] = None

    def for_turn(
        self, chat_id: Optional[int] = None, conversation_id: Optional[Text] = None
    ) -> "TelegramOutput":
        """A copy for one message, sending to `chat_id` (known to Rasa as `conversation_id`):
        the guard watches each turn's own output object, while the HTTP session (opened
        lazily in the server's loop) stays shared."""
        turn = copy.copy(self)
        turn._owner = self
        turn._chat_id = chat_id
        turn._conversation_id = conversation_id
        return turn

    async def send_response(self, recipient_id: Optional[Text], message: Dict[Text, Any]) -> None:
        """Rasa's way to send a bot message; an output that knows no chat for `recipient_id`
        (one made by Rasa's HTTP API, for instance) logs why and sends nothing."""
        if self._chat_id is None or str(recipient_id) not in (
            self._conversation_id, str(self._chat_id)
        ):
            logger.error(
                "No Telegram chat for conversation %r: replies go only to the chat of the update "
                "being handled (the conversation id is a pseudonym); nothing sent.",
                redact(str(recipient_id)),
            )
            return
        await super().send_response(recipient_id, message)

    async def request(
        self, method: Text, data: Optional[Dict] = None, files: Optional[Dict] = None, **kwargs: Any
    ) -> Any:
        if data and data.get("chat_id") is not None:
            given = str(data["chat_id"])
            if self._chat_id is None or given not in (self._conversation_id, str(self._chat_id)):
                raise UnknownChat(
                    f"{method}: no Telegram chat for conversation {redact(given)!r} (replies go only to "
                    "the chat of the update being handled); nothing sent."
                )
            data = {**data, "chat_id": self._chat_id}
        return await super().request(method, data, files, **kwargs)

    @property
    def session(self) -> Any:
        if self._owner is not None:
            return self._owner.session
        return super().session

    async def close(self) -> None:
        """Closes the aiohttp session (if one was opened) in the loop that opened it."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in split_text(text, MAX_TEXT):
            await self.send_message(recipient_id, part, disable_web_page_preview=True)

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        button_type: Optional[Text] = "vertical",
        **kwargs: Any,
    ) -> None:
        """Text with an inline keyboard: one button per row, so long titles stay readable."""
        usable = [b for b in buttons if b.get("title") and b.get("payload")]
        if not usable:
            await self.send_text_message(recipient_id, text)
            return
        markup = InlineKeyboardMarkup()
        for button in usable:
            markup.row(InlineKeyboardButton(button["title"], callback_data=button["payload"]))
        parts = split_text(text, MAX_TEXT)
        for part in parts[:-1]:
            await self.send_message(recipient_id, part, disable_web_page_preview=True)
        await self.send_message(
            recipient_id, parts[-1], reply_markup=markup, disable_web_page_preview=True
        )


class TelegramInput(RasaTelegramInput):
    """Telegram input channel, enabled when TELEGRAM_TOKEN is set."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        # The private parts of aiogram this channel relies on (server/internals.py), at start.
        internals.require_for("channels/telegram.py", "The Telegram channel cannot start")
        # Secrets never come from credentials.yml: anything written there is ignored.
        if credentials:
            logger.warning(
                "credentials.yml gives settings to the Telegram channel; they are ignored "
                "(it reads TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_SECRET, TELEGRAM_BOT_NAME and "
                "TELEGRAM_API_BASE_URL from the environment)."
            )
        return cls.from_environment()

    @classmethod
    def from_environment(cls) -> "TelegramInput":
        return cls(
            access_token=env("TELEGRAM_TOKEN") or None,
            secret=env("TELEGRAM_WEBHOOK_SECRET") or None,
            bot_name=env("TELEGRAM_BOT_NAME").lstrip("@") or None,
            api_base_url=env("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL,
        )

    def __init__(
        self,
        access_token: Optional[Text],
        secret: Optional[Text],
        bot_name: Optional[Text] = None,
        api_base_url: Text = DEFAULT_API_BASE_URL,
    ) -> None:
        super().__init__(access_token, verify=bot_name, webhook_url=None, debug_mode=False)
        self.secret = secret
        self.bot_name = bot_name
        self.api_base_url = api_base_url.rstrip("/")
        self._output: Optional[TelegramOutput] = None
        # Same key on every server (IOM_SENDER_KEY, else the bot token): same pseudonyms.
        self._sender_key = sender_key("telegram", access_token) if access_token else None
        self._seen: "OrderedDict[Any, None]" = OrderedDict()
        if not access_token:
            logger.info("TELEGRAM_TOKEN is not set: the Telegram channel is disabled.")
        elif not secret:
            logger.error(
                "TELEGRAM_WEBHOOK_SECRET is not set: the Telegram webhook refuses every update "
                "until it is (see docs/operating.md, 'Connect to Telegram')."
            )
        elif not SECRET_PATTERN.match(secret):
            logger.error(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -; "
                "Telegram's setWebhook will refuse it."
            )

    @property
    def enabled(self) -> bool:
        return bool(self.access_token)

    def get_output_channel(
        self, chat_id: Optional[int] = None, conversation_id: Optional[Text] = None
    ) -> TelegramOutput:
        """An output for one turn, sending to `chat_id` (in memory only) known to Rasa as
        `conversation_id`, sharing the channel's one aiohttp session; no API call here
        (Rasa's version called setWebhook on a throw-away event loop)."""
        if self._output is None:
            if not self.access_token:
                raise RuntimeError("The Telegram channel is disabled (TELEGRAM_TOKEN is not set).")
            self._output = TelegramOutput(self.access_token, self.api_base_url)
        return self._output.for_turn(chat_id, conversation_id)

    def _person(self, chat_id: Any) -> tuple:
        """(the pseudonym Rasa knows the chat by, an output sending to the real chat)."""
        conversation_id = pseudonym("telegram", chat_id, self._sender_key)
        return conversation_id, self.get_output_channel(int(chat_id), conversation_id)

    # --- checks --------------------------------------------------------------------------

    def _refusal(self, request: Request) -> Optional[HTTPResponse]:
        """401/403 unless the request carries the right secret-token header."""
        given = request.headers.get(SECRET_HEADER)
        if not self.secret:
            logger.warning("Telegram update refused: TELEGRAM_WEBHOOK_SECRET is not set.")
            return response.json({"ok": False, "error": "webhook secret not configured"}, 403)
        if not given:
            logger.warning("Telegram update refused: no %s header.", SECRET_HEADER)
            return response.json({"ok": False, "error": "missing secret token"}, 401)
        if not hmac.compare_digest(given.encode("utf-8"), self.secret.encode("utf-8")):
            logger.warning("Telegram update refused: wrong %s header.", SECRET_HEADER)
            return response.json({"ok": False, "error": "wrong secret token"}, 403)
        return None

    def _is_repeat(self, update_id: Any) -> bool:
        if update_id is None:
            return False
        if update_id in self._seen:
            return True
        self._seen[update_id] = None
        while len(self._seen) > SEEN_UPDATES:
            self._seen.popitem(last=False)
        return False

    def _command_text(self, text: Text) -> Text:
        """'/start', '/start@IOMBot', '/start payload' -> the greeting; other text as is."""
        stripped = text.strip()
        match = re.match(r"^/(\w+)(?:@(\w+))?(?:\s|$)", stripped)
        if not match:
            return text
        command, addressee = match.group(1), match.group(2)
        if addressee and self.bot_name and addressee.lower() != self.bot_name.lower():
            return text  # a command for another bot in a group
        if command == "start":
            return "/greet"
        if addressee:
            return "/" + command + stripped[match.end():].rstrip()
        return text

    @staticmethod
    def _metadata(user: Optional[Dict[Text, Any]]) -> Dict[Text, Any]:
        language = normalise_language((user or {}).get("language_code"))
        return {"language": language} if language else {}

    # --- webhook -------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook", __name__)
        handle = guarded(on_new_message)

        # Stopping: serve what reached this server, refuse new connections (server/drain.py).
        drain.register(telegram_webhook)

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if not self.enabled:
                return response.json({"status": "disabled"}, 404)
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.json({"ok": False, "error": "Telegram channel not configured"}, 404)
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
            try:
                update = json.loads(request.body or b"")
            except ValueError:
                return response.json({"ok": False, "error": "body is not JSON"}, 400)
            if not isinstance(update, dict):
                return response.json({"ok": False, "error": "body is not an Update"}, 400)
            if self._is_repeat(update.get("update_id")):
                return response.json({"ok": True})
            try:
                await self._process(update, handle)
            except Exception:  # never a 500: Telegram would re-send the update again and again
                logger.exception("Telegram update %s could not be handled.", update.get("update_id"))
            return response.json({"ok": True})

        @telegram_webhook.listener("after_server_stop")
        async def close_session(*_: Any) -> None:
            if self._output is not None:
                await self._output.close()

        return telegram_webhook

    async def _process(
        self, update: Dict[Text, Any], handle: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        callback = update.get("callback_query")
        if isinstance(callback, dict):
            await self._process_callback(callback, handle)
            return
        edited = update.get("edited_message")
        if isinstance(edited, dict):
            await self._polite(edited, "edited_message")
            return
        message = update.get("message")
        if not isinstance(message, dict):
            # channel posts, member updates, polls, inline queries...: nothing to answer.
            logger.debug("Telegram update without a message ignored: %s", sorted(update))
            return
        text = message.get("text")
        if not isinstance(text, str):
            await self._polite(message, "text_only")
            return
        chat_id = (message.get("chat") or {}).get("id")
        if not _is_chat_id(chat_id):
            return
        sender, out = self._person(chat_id)
        await handle(
            UserMessage(
                self._command_text(text),
                out,
                sender,
                input_channel=self.name(),
                metadata=self._metadata(message.get("from")),
            )
        )

    async def _process_callback(
        self,
        callback: Dict[Text, Any],
        handle: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        # Answer first: the button stops spinning in the user's app at once.
        try:
            await self.get_output_channel().answer_callback_query(callback.get("id"))
        except TelegramAPIError as error:
            logger.warning("answerCallbackQuery failed: %s", error)
        message = callback.get("message") or {}
        chat_id = (message.get("chat") or {}).get("id") or (callback.get("from") or {}).get("id")
        data = callback.get("data")
        if not _is_chat_id(chat_id) or not isinstance(data, str):
            return  # e.g. a game button: nothing to send to Rasa
        sender, out = self._person(chat_id)
        await handle(
            UserMessage(
                data,
                out,
                sender,
                input_channel=self.name(),
                metadata=self._metadata(callback.get("from")),
            )
        )

    async def _polite(self, message: Dict[Text, Any], key: Text) -> None:
        chat = message.get("chat") or {}
        if not _is_chat_id(chat.get("id")) or chat.get("type") == "channel":
            return
        sender, out = self._person(chat["id"])
        # Not a message for Rasa, but it counts against the sender's limit all the same.
        if await throttle.refusal(UserMessage("", out, sender, input_channel=self.name())):
            return
        language = normalise_language((message.get("from") or {}).get("language_code"))
        await out.send_text_message(sender, channel_text(key, language))


def _is_chat_id(value: Any) -> bool:
    """Telegram chat ids are integers (negative for groups); anything else is not a chat."""
    return isinstance(value, int) and not isinstance(value, bool)
