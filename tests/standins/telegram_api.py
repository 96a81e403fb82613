"""Stand-in of the Telegram Bot API (https://core.telegram.org/bots/api) on 127.0.0.1.

Requests: POST or GET `/bot<token>/<method>` with parameters in the query string, an
application/x-www-form-urlencoded or multipart/form-data body (object parameters such as
`reply_markup` JSON-serialised, as aiogram sends them) or a JSON body. Answers: `{"ok": true,
"result": ...}` or `{"ok": false, "error_code": ..., "description": ...}` like the real API, with
the same checks for the methods the assistant uses (sendMessage, answerCallbackQuery, setWebhook,
getWebhookInfo, deleteWebhook, getMe, sendChatAction).

The module also builds Update objects as Telegram POSTs them to a bot's webhook.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any, Dict, List, Optional

from aiohttp import web

from tests.standins.base import Call, StandIn

SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
JSON_PARAMS = ("reply_markup", "allowed_updates", "entities")


class TelegramError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class TelegramBotAPI(StandIn):
    def __init__(self, token: str, username: str = "IOMTestBot") -> None:
        super().__init__()
        self.token = token
        self.username = username
        self.bot_id = int(token.split(":")[0])
        self.webhook: Dict[str, Any] = {"url": "", "has_custom_certificate": False,
                                        "pending_update_count": 0}
        self._message_ids = itertools.count(1000)

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", r"/bot{token}/{method}", self._handle)

    # --- what the tests read -----------------------------------------------------------

    def sent_messages(self, chat_id: Optional[int] = None) -> List[Dict[str, Any]]:
        """Parameters of every successful sendMessage (to `chat_id` if given)."""
        return [
            c.params for c in self.snapshot("sendMessage")
            if c.status == 200 and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    # --- the API -------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> Dict[str, Any]:
        params: Dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    params.update(await request.json())
                except ValueError:
                    raise TelegramError(400, "Bad Request: can't parse JSON")
            else:
                params.update({k: v for k, v in (await request.post()).items()})
        for key in JSON_PARAMS:
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    raise TelegramError(400, f"Bad Request: can't parse {key} JSON object")
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: Dict[str, Any] = {}
        try:
            if request.match_info["token"] != self.token:
                raise TelegramError(401, "Unauthorized")
            params = await self._params(request)
            handler = getattr(self, "api_" + method.lower(), None)
            if handler is None:
                raise TelegramError(404, "Not Found")
            result = handler(params)
        except TelegramError as error:
            self.record(Call(method, params, error.code))
            return web.json_response(
                {"ok": False, "error_code": error.code, "description": error.description},
                status=error.code,
            )
        self.record(Call(method, params, 200))
        body: Dict[str, Any] = {"ok": True, "result": result}
        if method.lower() == "setwebhook":
            body["description"] = "Webhook was set"
        if method.lower() == "deletewebhook":
            body["description"] = "Webhook was deleted"
        return web.json_response(body)

    def _bot_user(self) -> Dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "IOM assistant",
                "username": self.username}

    def api_getme(self, params: Dict[str, Any]) -> Dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False}

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise TelegramError(400, "Bad Request: object expected as reply markup")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return  # reply keyboards, remove_keyboard, force_reply
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise TelegramError(400, "Bad Request: field \"inline_keyboard\" must be an Array of Arrays")
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, dict) or not button.get("text"):
                raise TelegramError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")
            if data is None and not any(k in button for k in ("url", "switch_inline_query", "pay")):
                raise TelegramError(400, "Bad Request: can't find field \"callback_data\"")

    def api_sendmessage(self, params: Dict[str, Any]) -> Dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise TelegramError(400, "Bad Request: chat_id is empty")
        if not re.match(r"^-?\d+$", str(chat_id)):
            raise TelegramError(400, "Bad Request: chat not found")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise TelegramError(400, "Bad Request: message is too long")
        self._check_markup(params.get("reply_markup"))
        message = {
            "message_id": next(self._message_ids),
            "from": self._bot_user(),
            "chat": {"id": int(chat_id), "type": "private" if int(chat_id) > 0 else "group"},
            "date": int(time.time()),
            "text": text,
        }
        if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        return message

    def api_answercallbackquery(self, params: Dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise TelegramError(400, "Bad Request: query is too old and response timeout "
                                     "expired or query ID is invalid")
        return True

    def api_sendchataction(self, params: Dict[str, Any]) -> bool:
        if not params.get("chat_id"):
            raise TelegramError(400, "Bad Request: chat_id is empty")
        return True

    def api_setwebhook(self, params: Dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if url and not url.startswith("https://"):
            raise TelegramError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.match(str(secret)):
            raise TelegramError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "has_custom_certificate": False, "pending_update_count": 0}
        if params.get("allowed_updates"):
            self.webhook["allowed_updates"] = params["allowed_updates"]
        return True

    def api_getwebhookinfo(self, params: Dict[str, Any]) -> Dict[str, Any]:
        return dict(self.webhook)

    def api_deletewebhook(self, params: Dict[str, Any]) -> bool:
        self.webhook = {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True


# --- Updates as Telegram POSTs them to the webhook --------------------------------------

_update_ids = itertools.count(int(time.time()) % 100000 * 1000)


def user(user_id: int, language_code: Optional[str] = "fr", first_name: str = "Amina") -> Dict[str, Any]:
    u: Dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        u["language_code"] = language_code
    return u


def private_chat(user_id: int, first_name: str = "Amina") -> Dict[str, Any]:
    return {"id": user_id, "first_name": first_name, "type": "private"}


def message(user_id: int, language_code: Optional[str] = "fr", **content: Any) -> Dict[str, Any]:
    return {
        "message_id": next(_update_ids) % 100000,
        "from": user(user_id, language_code),
        "chat": private_chat(user_id),
        "date": int(time.time()),
        **content,
    }


def text_update(user_id: int, text: str, language_code: Optional[str] = "fr") -> Dict[str, Any]:
    content: Dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split()[0]
        content["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
    return {"update_id": next(_update_ids), "message": message(user_id, language_code, **content)}


def callback_update(
    user_id: int, data: str, language_code: Optional[str] = "fr", query_id: Optional[str] = None
) -> Dict[str, Any]:
    bot_message = {
        "message_id": 77, "from": {"id": 1, "is_bot": True, "first_name": "IOM assistant"},
        "chat": private_chat(user_id), "date": int(time.time()), "text": "…",
    }
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": query_id or str(4382000000000000000 + next(_update_ids)),
            "from": user(user_id, language_code),
            "message": bot_message,
            "chat_instance": "-7112123123123123123",
            "data": data,
        },
    }


def photo_update(user_id: int, language_code: Optional[str] = "fr") -> Dict[str, Any]:
    photo = [
        {"file_id": "AgACAgQAAxkBAAIBZ2Small", "file_unique_id": "AQADs1", "file_size": 1298,
         "width": 90, "height": 67},
        {"file_id": "AgACAgQAAxkBAAIBZ2Large", "file_unique_id": "AQADs2", "file_size": 50210,
         "width": 800, "height": 600},
    ]
    return {"update_id": next(_update_ids), "message": message(user_id, language_code, photo=photo)}


def sticker_update(user_id: int, language_code: Optional[str] = "fr") -> Dict[str, Any]:
    sticker = {"file_id": "CAACAgIAAxkBAAIBaGStk", "file_unique_id": "AgADqQ", "type": "regular",
               "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "👍",
               "set_name": "HotCherry", "file_size": 23058}
    return {"update_id": next(_update_ids), "message": message(user_id, language_code, sticker=sticker)}


def location_update(user_id: int, language_code: Optional[str] = "fr") -> Dict[str, Any]:
    location = {"latitude": 46.2044, "longitude": 6.1432}
    return {"update_id": next(_update_ids), "message": message(user_id, language_code, location=location)}


def edited_update(user_id: int, text: str, language_code: Optional[str] = "fr") -> Dict[str, Any]:
    edited = message(user_id, language_code, text=text, edit_date=int(time.time()))
    return {"update_id": next(_update_ids), "edited_message": edited}


def channel_post_update(channel_id: int = -1001234567890) -> Dict[str, Any]:
    post = {"message_id": 5, "sender_chat": {"id": channel_id, "title": "News", "type": "channel"},
            "chat": {"id": channel_id, "title": "News", "type": "channel"},
            "date": int(time.time()), "text": "Hello channel"}
    return {"update_id": next(_update_ids), "channel_post": post}


def unknown_update(user_id: int) -> Dict[str, Any]:
    """An update type the bot never asked for (a reaction)."""
    return {
        "update_id": next(_update_ids),
        "message_reaction": {
            "chat": private_chat(user_id), "message_id": 12, "user": user(user_id),
            "date": int(time.time()), "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        },
    }
