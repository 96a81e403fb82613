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
- bodies over 20 MB are refused from their Content-Length (Sanic's default is 100 MB);
- its Prometheus metrics (docs/operating.md, "Monitoring") on the port after the Rasa server's,
  IOM_METRICS_PORT + 1 (default 9103), bound to IOM_METRICS_HOST (default 127.0.0.1), started
  before the server starts (server/metrics_port.py: a port already taken is logged, and the
  action server goes on without metrics):
  `iom_answers_total{topic}` (answers drawn from the facts file, by fact id) and
  `iom_not_understood_total{language}` (messages read as nlu_fallback, by reply language), both
  counted by `count_reply`, which actions/actions.py calls once per reply. Labels come from
  closed sets only (fact ids of the facts file, fr/en/es): never text, sender or country.

Imported elsewhere (tests, the Rasa server's process), where no "rasa_sdk" app exists, it
attaches nothing; `count_reply` still counts (in that process's registry, never served). The
app's name and the import before serving are rasa-sdk's internals: registered in
server/internals.py, checked when the action server starts (actions/__init__.py).
"""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any, Collection, Dict, List, Optional, Text

from prometheus_client import Counter
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from server import action_token, metrics_port
from server.settings import MAX_MESSAGE_CHARS

logger = logging.getLogger(__name__)

APP_NAME = "rasa_sdk"  # rasa_sdk.endpoint.create_app: Sanic("rasa_sdk", ...)
LANGUAGES = ("fr", "en", "es")
NOT_UNDERSTOOD_INTENT = "nlu_fallback"

ANSWERS = Counter("iom_answers", "Answers drawn from the facts file, by fact id", ["topic"])
NOT_UNDERSTOOD = Counter(
    "iom_not_understood", "Messages not understood (nlu_fallback), by reply language", ["language"])
for _language in LANGUAGES:
    NOT_UNDERSTOOD.labels(_language)


def _slot(events: List[Dict[Text, Any]], name: str) -> Any:
    values = [e.get("value") for e in events if e.get("event") == "slot" and e.get("name") == name]
    return values[-1] if values else None


def count_reply(intent: str, events: List[Dict[Text, Any]], topics: Collection[str]) -> None:
    """One reply of ours: `intent` as resolved, the events it returns (SlotSet language/topic),
    `topics` the fact ids of the facts file (a topic outside them is not counted)."""
    topic = _slot(events, "topic")
    if isinstance(topic, str) and topic in topics:
        ANSWERS.labels(topic).inc()
    if intent == NOT_UNDERSTOOD_INTENT:
        language = _slot(events, "language")
        NOT_UNDERSTOOD.labels(language if language in LANGUAGES else "other").inc()


def attach_metrics(app: Sanic) -> None:
    @app.listener("before_server_start")
    async def serve_metrics(_app: Any, _loop: Any) -> None:
        metrics_port.serve("action server", offset=1)


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
    """The secret and the caps (above) on the action server's app."""
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
    attach_metrics(app)


_attach_to_running_sdk()
