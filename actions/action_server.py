"""What the action server process adds around rasa-sdk (the one place for it).

rasa-sdk's `create_app` makes the Sanic app `Sanic("rasa_sdk")`, then imports this package and
every module in it (to find the actions), then serves. So this module, imported with the
others, finds the app by name (`Sanic.get_app`, Sanic's public API) and adds to it, however the
action server is started (`make run`, `.venv/bin/rasa run actions`, a container):

- its Prometheus metrics (README, "Operating it") on the port after the Rasa server's,
  IOM_METRICS_PORT + 1 (default 9103), bound to IOM_METRICS_HOST (default 127.0.0.1), started
  before the server starts (server/metrics_port.py: a port already taken is logged, and the
  action server goes on without metrics):
  `iom_answers_total{topic}` (answers drawn from the facts file, by fact id) and
  `iom_not_understood_total{language}` (messages read as nlu_fallback, by reply language), both
  counted by `count_reply`, which actions/actions.py calls once per reply. Labels come from
  closed sets only (fact ids of the facts file, fr/en/es): never text, sender or country.

Imported elsewhere (tests, the Rasa server's process), where no "rasa_sdk" app exists, it
attaches nothing; `count_reply` still counts (in that process's registry, never served).
"""

from __future__ import annotations

import logging
from typing import Any, Collection, Dict, List, Text

from prometheus_client import Counter
from sanic import Sanic
from sanic.exceptions import SanicException

from server import metrics_port

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


def _attach_to_running_sdk() -> None:
    try:
        app: Any = Sanic.get_app(APP_NAME)
    except SanicException:
        return  # not the action server's process
    attach_metrics(app)


_attach_to_running_sdk()
