"""What the Rasa server's web app gets around Rasa's own, set where Rasa builds it.

Rasa 3.6 builds its Sanic app in `rasa.core.run.configure_app` (API routes, CORS, then the input
channels). server.install() replaces that function (a reach-in into Rasa, checked at start like
every replacement: server/__init__.py) with one that calls Rasa's own and then:

- refuses to start when an input channel does not pass its messages through channels/guard.py
  (server/channel_check.py): a stock `rest:` or `socketio:` line in credentials.yml;
- sends the action server's secret with every action call (server/action_token.py): a header on
  the action endpoint Rasa read from the endpoints file, whatever that file says;
- refuses a body over IOM_MAX_BODY_BYTES (default 1 MB) from its Content-Length, before reading it
  (Sanic's REQUEST_MAX_SIZE; a chunked body is cut off as soon as it passes the limit), with 413
  and a JSON error;
- adds security headers to every response (no MIME sniffing, no framing, no referrer, no caching
  of conversations);
- sends no CORS headers to a request without an Origin header (Sanic-CORS would list the allowed
  origins to anyone).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from server import action_token, channel_check, patching
from server.settings import MAX_BODY_BYTES

logger = logging.getLogger(__name__)

CONFIGURE_APP = "rasa.core.run:configure_app"
REPLACES = {
    CONFIGURE_APP: (
        "input_channels", "cors", "auth_token", "enable_api", "response_timeout", "jwt_secret",
        "jwt_private_key", "jwt_method", "route", "port", "endpoints", "log_file",
        "conversation_id", "use_syslog", "syslog_address", "syslog_port", "syslog_protocol",
        "request_timeout", "server_listeners", "use_uvloop", "keep_alive_timeout",
    ),
}

SECURITY_HEADERS: Dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_rasa_configure_app: Any = None


def configure_app(*args: Any, **kwargs: Any) -> Sanic:
    """Rasa's `configure_app`, with the checks and settings above."""
    bound = _signature().bind(*args, **kwargs)
    input_channels = bound.arguments.get("input_channels") or []
    unguarded: List[str] = []
    unwatch = [channel_check.watch(channel, unguarded) for channel in input_channels]
    try:
        app = _rasa_configure_app(*args, **kwargs)
    finally:
        for undo in unwatch:
            undo()
    channel_check.refuse(unguarded)
    endpoints = bound.arguments.get("endpoints")
    if endpoints is not None and getattr(endpoints, "action", None) is not None:
        endpoints.action.headers[action_token.HEADER] = action_token.header_value()
    harden(app)
    return app


def harden(app: Sanic) -> None:
    """Body limit, security headers and CORS only for cross-origin requests, on `app`."""
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    from sanic_cors.core import SANIC_CORS_EVALUATED

    async def too_large(request: Request, error: Exception) -> HTTPResponse:
        return response.json(
            {"error": f"the body is larger than {MAX_BODY_BYTES} bytes"}, status=413)

    app.error_handler.add(PayloadTooLarge, too_large)

    async def no_cors_without_origin(request: Request) -> None:
        if "origin" not in request.headers:
            setattr(request.ctx, SANIC_CORS_EVALUATED, "1")  # Sanic-CORS: nothing to add

    async def security_headers(request: Request, reply: HTTPResponse) -> None:
        headers = getattr(reply, "headers", None)
        if headers is None:
            return
        for name, value in SECURITY_HEADERS.items():
            if name not in headers:
                headers[name] = value

    app.register_middleware(no_cors_without_origin, "request")
    app.register_middleware(security_headers, "response")


def _signature():
    import inspect

    return inspect.signature(_rasa_configure_app)


def install() -> None:
    global _rasa_configure_app
    _rasa_configure_app = patching.original(CONFIGURE_APP)
    patching.replace(CONFIGURE_APP, configure_app)
