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
- A session belongs to the browser that holds its secret, and a socket writes only into the
  session it asked for. The `session_id` the server confirms (and the widget keeps in
  localStorage, and sends back when it reconnects or the page reloads) is a secret of 256 random
  bits made by the server (privacy/pseudonym.py `new_web_token`); the conversation is stored
  under `web-` + its SHA-256 (`web_conversation`), so neither the tracker store nor a log holds
  the secret, and no id a client picks can name another channel's conversation (REST senders
  cannot use `web-` ids either: channels/rest.py). A `session_request` without a well-formed
  secret gets a new one (a new conversation); a message is handled for the conversation of the
  socket's own `session_request`, and only if it names that session.
- The client's address (channels/client_address.py, read when the socket connects) goes with each
  message to the guard, for the per-address limits (throttle/): a client that opens a new session
  before each message is limited like one that picks a new REST sender id.
- A polling request with more packets than Engine.IO decodes (16) gets a 400, not a traceback
  in the log.
- Metadata is always a dict (the widget sends the page language as `customData`), text a string,
  and every message goes through `channels.guard.guarded`.
- Each bot message says its language (`WebChatOutput`): the page marks every bubble with the
  `lang` of its own text, which is not always the page's (WCAG 3.1.2), and suggestion buttons are
  sent as `buttons`, not `quick_replies` (the widget removes and re-creates a quick-reply message
  once one is chosen, so screen readers read it twice).
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import re
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
from channels import client_address
from channels.guard import guarded
from privacy.pseudonym import is_web_token, new_web_token, web_conversation
from server import drain, internals

logger = logging.getLogger(__name__)

ORIGINS_ENV = "IOM_ALLOWED_ORIGINS"
DEFAULT_WEB_PORT = 8080
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


async def _maybe_await(result: Any) -> None:
    # python-socketio 5.x's AsyncServer.enter_room/leave_room are coroutines; Rasa calls
    # enter_room without awaiting it (RasaHQ/rasa#13027).
    if inspect.isawaitable(result):
        await result


def _bad_payload_is_400(handle_request: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Engine.IO's request handler, with a 400 for a polling POST of more packets than it decodes.

    python-engineio (4.x) decodes at most `Payload.max_decode_packets` (16) packets, separated by
    the record separator \x1e (Engine.IO 4), per polling POST; more raise ValueError inside
    `AsyncServer.handle_request`, which logs it with a traceback ("post request handler error")
    and answers 200. Refused here before Engine.IO sees it. Reach-in: Engine.IO's payload format
    and limit, and the Sanic driver routing to `eio.handle_request` as looked up when the
    blueprint is registered (its first argument is the Sanic request)."""
    from engineio.payload import Payload

    @functools.wraps(handle_request)
    async def handle(request: Request, *args: Any, **kwargs: Any) -> Any:
        body = request.body or b""
        if request.method == "POST" and body.count(b"\x1e") >= Payload.max_decode_packets:
            logger.info("Refused a socket.io polling request of more than %d packets (400)",
                        Payload.max_decode_packets)
            return response.json({"error": "too many socket.io packets in one request"},
                                 status=400)
        return await handle_request(request, *args, **kwargs)

    return handle


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
        # The private parts of Rasa's socket.io channel and Sanic-CORS this one relies on
        # (server/internals.py), checked when Rasa creates the channel at start.
        internals.require_for("channels/socketio.py", "The socket.io channel cannot start")
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
        # The route Engine.IO attaches (when the blueprint is registered) is this attribute.
        sio.eio.handle_request = _bad_payload_is_400(sio.eio.handle_request)
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
            # python-engineio's Sanic driver puts the Sanic request in the environ (its
            # REMOTE_ADDR is always 127.0.0.1): the peer and X-Forwarded-For are read from it.
            request = environ.get("sanic.request") if isinstance(environ, dict) else None
            address = client_address.of_request(request) if request is not None else None
            await sio.save_session(sid, {"address": address}, namespace=self.namespace)
            return True

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            secret = requested if is_web_token(requested) else new_web_token()
            session = await sio.get_session(sid, namespace=self.namespace)
            if self.session_persistence:
                conversation = web_conversation(secret)
                previous = session.get("conversation")
                if previous and previous != conversation:
                    await _maybe_await(sio.leave_room(sid, previous, namespace=self.namespace))
                await _maybe_await(sio.enter_room(sid, conversation, namespace=self.namespace))
                session.update(secret=secret, conversation=conversation)
                await sio.save_session(sid, session, namespace=self.namespace)
            await sio.emit("session_confirm", secret, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            session = await sio.get_session(sid, namespace=self.namespace)
            output_channel = WebChatOutput(sio, self.bot_message_evt)
            if self.session_persistence:
                if not session.get("secret") or data.get("session_id") != session["secret"]:
                    logger.info(
                        "Ignored a socket.io message for a session this socket did not ask for "
                        "(send `session_request` first)."
                    )
                    return
                sender_id = session["conversation"]
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
            await on_new_message(message, address=session.get("address"))

        return socketio_webhook
