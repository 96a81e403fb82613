"""The website channel: Rasa's socket.io channel, fixed and locked to the site's own origins.

Configured in credentials.yml as `channels.socketio.SocketIOInput:` (same keys as Rasa's `socketio`
channel). What it changes compared with `rasa.core.channels.socketio.SocketIOInput` (Rasa 3.6.21):

- Session persistence works: Rasa calls `sio.enter_room(...)` without `await`; with
  python-socketio 5.x that is a coroutine that never runs, so the browser gets `session_confirm`
  but never a reply (RasaHQ/rasa#13027). Here it is awaited.
- Only browsers on the allowed origins may connect: the Engine.IO handshake (polling and
  websocket alike) with any other `Origin` header is refused. Rasa passes `[]`, which turns the
  check off. Allowed origins come from `IOM_ALLOWED_ORIGINS` (comma-separated), else the chat
  page's own origin (http://127.0.0.1:WEB_PORT and http://localhost:WEB_PORT, WEB_PORT 8080),
  else the `cors_allowed_origins` list of credentials.yml. `*` is never accepted.
- A session id must look like one (the widget's uuid), and a message is only accepted for the
  session this socket joined, so one browser cannot post into another's conversation.
- Metadata is always a dict (the widget sends the page language as `customData`), text a string,
  and every message goes through `channels.guard.guarded`.
- Each bot message says its language (`WebChatOutput`): the page marks every bubble with the
  `lang` of its own text, which is not always the page's (WCAG 3.1.2), and suggestion buttons are
  sent as `buttons`, not `quick_replies` (the widget removes and re-creates a quick-reply message
  once one is chosen, so screen readers read it twice).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import rasa.core.channels.channel
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic_cors.core import SANIC_CORS_EVALUATED
from socketio import AsyncServer

from actions.language import normalise_language
from channels.guard import guarded
from server import drain

logger = logging.getLogger(__name__)

ORIGINS_ENV = "IOM_ALLOWED_ORIGINS"
DEFAULT_WEB_PORT = 8080
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


def default_origins() -> List[str]:
    port = os.environ.get("WEB_PORT", "").strip() or str(DEFAULT_WEB_PORT)
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def parse_origins(value: Any) -> List[str]:
    """'http://a:1, http://b' or a list -> cleaned list of origins; `*` and junk are dropped."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    origins = []
    for item in items:
        origin = str(item).strip().rstrip("/")
        if not origin:
            continue
        if not _ORIGIN.match(origin):
            logger.warning("Ignoring allowed origin %r: expected scheme://host[:port]", origin)
            continue
        if origin not in origins:
            origins.append(origin)
    return origins


def allowed_origins(credentials: Optional[Dict[Text, Any]] = None) -> List[str]:
    from_env = os.environ.get(ORIGINS_ENV, "").strip()
    if from_env:
        origins = parse_origins(from_env)
    elif credentials and credentials.get("cors_allowed_origins"):
        origins = parse_origins(credentials["cors_allowed_origins"])
    else:
        origins = default_origins()
    if not origins:
        raise ValueError(f"{ORIGINS_ENV} contains no valid origin (scheme://host[:port])")
    return origins


def _metadata(value: Any) -> Dict[Text, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def page_metadata(language: Any) -> Dict[Text, Any]:
    """What the page needs to know about one bot message: its language.

    rasa-webchat 1.0.1 drops unknown message fields but applies `metadata.customCss` with style
    "class" as a class of the message bubble, and keeps it in its stored history; the page turns
    the class `iom-lang-xx` into `lang="xx"` (web/static/chat.js). `language` is for other clients.
    """
    lang = normalise_language(language)
    if not lang:
        return {}
    return {"metadata": {"language": lang, "customCss": {"style": "class", "css": f"iom-lang-{lang}"}}}


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output with the language of each message and buttons that stay in place.

    The language comes from the bot message's metadata (`utter_message(..., language=...)` in
    actions/actions.py, `language=` in channels/guard.py), which Rasa passes to the send methods
    as keyword arguments.
    """

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        metadata = page_metadata(kwargs.get("language"))
        for part in text.strip().split("\n\n"):
            await self._send_message(recipient_id, {"text": part, **metadata})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        # The buttons go with the last part, as in Rasa's channel. As `buttons` the widget keeps
        # the message's markup when one is chosen (as `quick_replies` it swaps the whole bubble);
        # the page shows only the latest message's buttons.
        metadata = page_metadata(kwargs.get("language"))
        parts = text.strip().split("\n\n") or [text]
        for number, part in enumerate(parts, start=1):
            message: Dict[Text, Any] = {"text": part, **metadata}
            if number == len(parts):
                message["buttons"] = [
                    {"title": button["title"], "payload": button["payload"]} for button in buttons
                ]
            await self._send_message(recipient_id, message)


class OriginCheckedSocketBlueprint(SocketBlueprint):
    """Leaves the socket.io path's CORS headers to Engine.IO, which checks the origin itself.

    Without this, `rasa run --cors` (Sanic-CORS, needed for the REST channel) adds a second
    Access-Control-Allow-Origin header to socket.io responses and browsers reject both.
    """

    def register(self, app: Sanic, options: Dict[Text, Any]) -> None:
        path = "/" + self.ctx.socketio_path.strip("/")

        async def cors_by_engineio(request: Request) -> None:
            if request.path == path or request.path.startswith(path + "/"):
                setattr(request.ctx, SANIC_CORS_EVALUATED, "1")

        app.register_middleware(cors_by_engineio, "request")
        super().register(app, options)


class SocketIOInput(RasaSocketIOInput):
    """Rasa's socket.io input channel with working session persistence and an origin allow-list."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        channel.allowed_origins = allowed_origins(credentials)
        return channel

    def __init__(self, *args: Any, allowed_origins_list: Optional[List[str]] = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.allowed_origins = allowed_origins_list or allowed_origins()

    def get_output_channel(self) -> Optional[OutputChannel]:
        # Rasa's own warns when there is no socket server (several Sanic workers).
        if super().get_output_channel() is None:
            return None
        return WebChatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = guarded(on_new_message)
        logger.info("socket.io channel accepts browsers from: %s", ", ".join(self.allowed_origins))
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=list(self.allowed_origins))
        socketio_webhook = OriginCheckedSocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        # Rasa's get_output_channel() reads it.
        self.sio = sio

        # Stopping: serve what reached this server, refuse new connections (server/drain.py).
        drain.register(socketio_webhook)

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            if self.jwt_key:
                token = auth.get("token") if isinstance(auth, dict) else None
                payload = None
                if token:
                    payload = rasa.core.channels.channel.decode_bearer_token(
                        token, self.jwt_key, self.jwt_algorithm
                    )
                if not payload:
                    return False
            logger.debug("User %s connected to the socket.io endpoint.", sid)
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            logger.debug("User %s disconnected from the socket.io endpoint.", sid)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = (
                requested
                if isinstance(requested, str) and SESSION_ID.match(requested)
                else uuid.uuid4().hex
            )
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            output_channel = WebChatOutput(sio, self.bot_message_evt)
            if self.session_persistence:
                session_id = data.get("session_id")
                if not isinstance(session_id, str) or session_id not in (
                    sio.rooms(sid, namespace=self.namespace) or []
                ):
                    logger.warning(
                        "Ignored a socket.io message for a session this socket did not join "
                        "(send `session_request` first)."
                    )
                    return
                sender_id = session_id
            else:
                sender_id = sid
            text = data.get("message")
            message = UserMessage(
                text if isinstance(text, str) else "",
                output_channel,
                sender_id,
                input_channel=self.name(),
                metadata=_metadata(data.get(self.metadata_key)),
            )
            await on_new_message(message)

        return socketio_webhook
