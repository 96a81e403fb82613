"""Prometheus metrics of the Rasa server (docs/operating.md, "Monitoring"), served on
IOM_METRICS_PORT by server/operations.py through server/metrics_port.py.

Every label value comes from a closed set, never from what a user typed: channel names
(`CHANNELS`, anything else counts as "other"), the reply languages fr/en/es, redaction kinds
(`REDACTION_KINDS`), action error kinds (`ACTION_ERROR_KINDS`). No message text, no sender id,
no country.

Who counts what:
- channels/observed.py, around the guard (the one gate every user message passes): user
  messages by channel and language, the time to reply by channel, throttled messages by channel,
  redactions by kind;
- server/action_outcome.py, around Rasa's call of a custom action: failed calls by kind, and the
  language the action server answered in, noted on the current `Turn` so that the message is
  counted in the language it was answered in (the one the action server chose, with the
  conversation's context) and the Rasa server detects no language itself for it.
"""

from __future__ import annotations

import contextvars
from typing import Optional

from prometheus_client import Counter, Histogram

CHANNELS = frozenset({"rest", "socketio", "telegram", "whatsapp", "cmdline"})
LANGUAGES = frozenset({"fr", "en", "es"})
REDACTION_KINDS = ("email", "phone", "number", "name", "address", "birthdate")
# unreachable: no connection (refused, reset, name unknown); timeout: no answer within
# IOM_ACTION_TIMEOUT; server_error: a 5xx (an action raised); rejected: a 4xx (unknown action,
# refused call); invalid_response: an answer that does not follow Rasa's format; other: the rest.
ACTION_ERROR_KINDS = ("unreachable", "timeout", "server_error", "rejected", "invalid_response", "other")
OTHER = "other"

# Reply times: p50 is ~10-30 ms on one server, p95 under load ~90-250 ms (BENCHMARKS.md); the
# buckets are finer there, and reach the 5 s action timeout and beyond.
REPLY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0,
                 3.0, 5.0, 10.0)

MESSAGES = Counter(
    "iom_messages", "User messages taken on (not throttled), by channel and reply language",
    ["channel", "language"])
REPLY_SECONDS = Histogram(
    "iom_reply_seconds", "Seconds from a user message's arrival to the end of its turn, by channel",
    ["channel"], buckets=REPLY_BUCKETS)
THROTTLED = Counter(
    "iom_throttled",
    "User messages refused by a limit (per sender, per client address: throttle/), by channel",
    ["channel"])
REDACTIONS = Counter(
    "iom_redactions", "Pieces of personal data replaced in user messages, by kind", ["kind"])
ACTION_ERRORS = Counter(
    "iom_action_errors", "Custom action calls that failed, by kind", ["kind"])


def channel_label(name: object) -> str:
    return name if isinstance(name, str) and name in CHANNELS else OTHER


def language_label(code: object) -> Optional[str]:
    return code if isinstance(code, str) and code in LANGUAGES else None


class Turn:
    """What is learnt about one user message while Rasa handles it."""

    __slots__ = ("language",)

    def __init__(self) -> None:
        self.language: Optional[str] = None


_turn: contextvars.ContextVar[Optional[Turn]] = contextvars.ContextVar("iom_turn", default=None)


def start_turn() -> Turn:
    """A new Turn for the message handled in the current task (and the tasks it starts)."""
    turn = Turn()
    _turn.set(turn)
    return turn


def current_turn() -> Optional[Turn]:
    return _turn.get()


def action_error(kind: str) -> None:
    ACTION_ERRORS.labels(kind if kind in ACTION_ERROR_KINDS else OTHER).inc()


# Every series from the start, at 0: a rate over a counter that appears only at its first
# increment misses that increment, and the dashboard shows 0 rather than "no data".
for _kind in ACTION_ERROR_KINDS:
    ACTION_ERRORS.labels(_kind)
for _kind in REDACTION_KINDS:
    REDACTIONS.labels(_kind)
for _channel in CHANNELS - {"cmdline"}:
    THROTTLED.labels(_channel)
    REPLY_SECONDS.labels(_channel)
    for _language in LANGUAGES:
        MESSAGES.labels(_channel, _language)
