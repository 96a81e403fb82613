"""The Rasa server's metrics of each user message (server/metrics.py), taken around the guard.

`observed(handle, language_of)` wraps the guard's handler (channels/guard.py), the one gate
every channel's user messages pass, and watches what goes in and what comes out, so the guard's
own code stays about answering people:
- a message the guard refuses over a limit (per sender or per client address: it returns the
  throttle's refusal) counts in `iom_throttled_total{channel}` and nowhere else;
- every other message counts once in `iom_messages_total{channel,language}` and its turn's
  duration, from its arrival to the end of the turn (the last reply sent or collected), in
  `iom_reply_seconds{channel}`. The language is the one the action server answered in
  (server/action_outcome.py notes it on the turn); for a turn without an answer from the action
  server (the guard's own notices, the action server down) it is `language_of(message)`, the
  guard's own choice for its notices;
- the placeholders the guard's redaction put in the text and the metadata (privacy/redact.py:
  [email], [phone], [number], [name], [address], [birthdate]) count in
  `iom_redactions_total{kind}`.
Labels come from closed sets only (server/metrics.py): never the text, the sender or a country.
"""

from __future__ import annotations

import json
import time
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import UserMessage

from privacy.redact import ADDRESS, BIRTHDATE, EMAIL, NAME, NUMBER, PHONE
from server import metrics
from throttle import Refusal

Handle = Callable[..., Awaitable[Any]]

PLACEHOLDERS = {"email": EMAIL, "phone": PHONE, "number": NUMBER, "name": NAME,
                "address": ADDRESS, "birthdate": BIRTHDATE}


def _placeholders(text: Any, metadata: Any) -> dict:
    texts = text if isinstance(text, str) else ""
    if isinstance(metadata, dict) and metadata:
        texts += json.dumps(metadata, ensure_ascii=False, default=str)
    return {kind: texts.count(mark) for kind, mark in PLACEHOLDERS.items() if mark in texts}


def _count_redactions(before: dict, after: dict) -> None:
    for kind, count in after.items():
        added = count - before.get(kind, 0)
        if added > 0:
            metrics.REDACTIONS.labels(kind).inc(added)


def observed(handle: Handle, language_of: Callable[[UserMessage], str]) -> Handle:
    async def observe(message: UserMessage, *args: Any, **kwargs: Any) -> Optional[Any]:
        # *args, **kwargs: the guard's own (the client address, say_refusal), passed on.
        started = time.perf_counter()
        channel = metrics.channel_label(message.input_channel)
        before = _placeholders(message.text, message.metadata)
        turn = metrics.start_turn()
        result = None
        try:
            result = await handle(message, *args, **kwargs)
            return result
        finally:
            if isinstance(result, Refusal):
                metrics.THROTTLED.labels(channel).inc()
            else:
                metrics.REPLY_SECONDS.labels(channel).observe(time.perf_counter() - started)
                language = turn.language or metrics.language_label(language_of(message)) or "fr"
                metrics.MESSAGES.labels(channel, language).inc()
                _count_redactions(before, _placeholders(message.text, message.metadata))

    return observe
