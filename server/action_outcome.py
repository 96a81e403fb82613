"""What became of each custom action call, for the Rasa server's metrics (server/metrics.py).

Rasa 3.6 calls the action server in `RemoteAction.run`; a failure there (the action server down,
too slow, answering 5xx or something malformed) is raised, then swallowed by
`MessageProcessor._run_action`, which only logs it: nothing else in the Rasa server tells one kind
of failure from another. Wrapping `RemoteAction.run` (installed always by server.install(), the one
checked entry for replacements of Rasa internals, whatever IOM_PERF_PATCHES says):
- a failed call counts in `iom_action_errors_total{kind}`, its kind read from the exception and
  what it was raised from; the exception is raised again unchanged, so Rasa (and the guard's
  "temporarily unavailable" reply) behave exactly as before;
- a successful call's `language` slot (set by every action of ours: the reply's language) is
  noted on the current turn, so the guard's observer counts the message in the language it was
  answered in.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, List, Optional

import aiohttp

from server import metrics, patching

logger = logging.getLogger(__name__)

RUN = "rasa.core.actions.action:RemoteAction.run"
REPLACES = {RUN: ("self", "output_channel", "nlg", "tracker", "domain")}

_inner: Any = None  # the RemoteAction.run this wraps, set by install()


def _causes(error: BaseException) -> List[BaseException]:
    """The error and what it was raised from or during (Rasa re-raises as RasaException)."""
    chain: List[BaseException] = []
    current: Optional[BaseException] = error
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def error_kind(error: BaseException) -> str:
    """The ACTION_ERROR_KINDS entry for an exception raised by RemoteAction.run."""
    from jsonschema import ValidationError
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.utils.endpoints import ClientResponseError

    for cause in _causes(error):
        if isinstance(cause, ValidationError):
            return "invalid_response"
        if isinstance(cause, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
            return "timeout"
        if isinstance(cause, (ClientResponseError, aiohttp.ClientResponseError)):
            return "server_error" if cause.status >= 500 else "rejected"
        if isinstance(cause, ActionExecutionRejection):
            return "rejected"
        if isinstance(cause, aiohttp.ClientConnectionError):
            return "unreachable"
    return "other"


def _reply_language(events: Any) -> Optional[str]:
    language = None
    for event in events or ():
        if getattr(event, "key", None) == "language" and type(event).__name__ == "SlotSet":
            language = metrics.language_label(getattr(event, "value", None))
    return language


async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
    try:
        events = await _inner(self, output_channel, nlg, tracker, domain)
    except asyncio.CancelledError:
        raise
    except Exception as error:
        metrics.action_error(error_kind(error))
        raise
    turn = metrics.current_turn()
    if turn is not None:
        turn.language = _reply_language(events) or turn.language
    return events


def install() -> None:
    """Wraps the RemoteAction.run installed now (once, however often it is called)."""
    global _inner
    from rasa.core.actions.action import RemoteAction

    current = RemoteAction.run
    if current is not run:
        _inner = current
    patching.replace(RUN, run)
