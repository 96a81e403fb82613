"""What the action server process adds around rasa-sdk (the one place for it).

rasa-sdk's `create_app` makes the Sanic app `Sanic("rasa_sdk")`, then imports this package and
every module in it (to find the actions), then serves. So this module, imported with the
others, finds the app by name (`Sanic.get_app`, Sanic's public API) and adds to it, however the
action server is started (`make run`, `.venv/bin/rasa run actions`, a container):

- the shared secret (server/action_token.py): every request but `GET /health` must carry
  `Authorization: Bearer <IOM_ACTION_TOKEN>`, which the Rasa server sends (server/hardening.py);
  anything else gets 401, before the body is read as JSON. Only the Rasa server can thus have
  actions run, with its own trackers and slots;
- the guard's text cap (IOM_MAX_MESSAGE_CHARS, default 1000): a call whose latest user message
  is longer is refused with 413 (the Rasa server's guard never lets one through; Rasa's HTTP API
  could);
- bodies over 20 MB are refused from their Content-Length (Sanic's default is 100 MB).

Imported elsewhere (tests, the Rasa server's process), where no "rasa_sdk" app exists, it does
nothing.
"""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any, Optional

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from server import action_token
from server.settings import MAX_MESSAGE_CHARS

logger = logging.getLogger(__name__)

APP_NAME = "rasa_sdk"  # rasa_sdk.endpoint.create_app: Sanic("rasa_sdk", ...)
OPEN_PATHS = {"/health"}
MAX_BODY_BYTES = 20_000_000  # Rasa sends the tracker with every call (the last turns here)


def _latest_text(request: Request) -> Optional[str]:
    """The latest user message's text of an action call (rasa-sdk reads the body the same way)."""
    body = request.body or b""
    if request.headers.get("Content-Encoding") == "deflate":
        inflater = zlib.decompressobj()
        body = inflater.decompress(body, MAX_BODY_BYTES)
        if inflater.unconsumed_tail:
            return None
    try:
        call = json.loads(body) if body else None
    except ValueError:
        return None
    tracker = call.get("tracker") if isinstance(call, dict) else None
    latest = tracker.get("latest_message") if isinstance(tracker, dict) else None
    text = latest.get("text") if isinstance(latest, dict) else None
    return text if isinstance(text, str) else None


def attach(app: Sanic, secret: str) -> None:
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES

    async def authorised(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        if not action_token.valid(request.headers.get(action_token.HEADER), secret):
            # Hook for an "action calls refused" counter.
            return response.json({"error": "missing or wrong action server token"}, status=401)
        if request.method == "POST" and request.path == "/webhook":
            text = _latest_text(request)
            if text is not None and len(text) > MAX_MESSAGE_CHARS:
                return response.json(
                    {"error": f"the latest message is longer than {MAX_MESSAGE_CHARS} characters"},
                    status=413)
        return None

    app.register_middleware(authorised, "request")


def _attach_to_running_sdk() -> None:
    try:
        app: Any = Sanic.get_app(APP_NAME)
    except SanicException:
        return  # not the action server's process
    attach(app, action_token.token())
    logger.info("Action server: calls need the Rasa server's token (IOM_ACTION_TOKEN)")


_attach_to_running_sdk()
