"""Per-sender message limit for every channel (README, "Operating it safely").

`channels/guard.py` asks `refusal(message)` for each user message before anything else. Over
the limit the message is neither processed nor stored; the guard tells the user once per window
(messages.slow_down) and the REST channel answers 429 with Retry-After.

Environment (read once, at the first message):
  IOM_RATE_LIMIT         COUNT/WINDOW per sender and channel: `40/30s` (default), `100/5m`,
                         or `off` (benchmarks and load tests)
  REDIS_HOST             when set, the windows live in Redis, shared by all Rasa servers (the
                         variables of deploy/endpoints.yml's lock store: REDIS_PORT (6379),
                         REDIS_PASSWORD); unset, they live in this process's memory
  IOM_RATE_LIMIT_REDIS_DB     (1, the lock store's database)  IOM_RATE_LIMIT_PREFIX (iom:rate:)
"""

from __future__ import annotations

import logging
import os
from typing import Any, Optional, Union

from throttle.limiter import Decision, Limit, MemoryStore, RedisStore, parse_limit

__all__ = ["Decision", "Limit", "Refusal", "configured", "refusal", "DEFAULT_LIMIT"]

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = "40/30s"
Refusal = Decision  # what `refusal` returns for a refused message

_configured: Optional[tuple] = None


def _from_environment() -> tuple:
    raw = os.environ.get("IOM_RATE_LIMIT", "").strip() or DEFAULT_LIMIT
    try:
        limit = parse_limit(raw)
    except ValueError as error:
        logger.error("IOM_RATE_LIMIT %s; using %s", error, DEFAULT_LIMIT)
        limit = parse_limit(DEFAULT_LIMIT)
    store: Union[MemoryStore, RedisStore, None] = None
    if limit is not None:
        host = os.environ.get("REDIS_HOST", "").strip()
        if host:
            store = RedisStore(
                host, int(os.environ.get("REDIS_PORT") or 6379), os.environ.get("REDIS_PASSWORD"),
                int(os.environ.get("IOM_RATE_LIMIT_REDIS_DB") or 1),
                os.environ.get("IOM_RATE_LIMIT_PREFIX") or "iom:rate:",
            )
        else:
            store = MemoryStore()
    logger.info("Per-sender limit: %s (%s)", limit or "off", type(store).__name__ if store else "-")
    return limit, store


def configured() -> tuple:
    """(Limit or None, store or None), from the environment on first use."""
    global _configured
    if _configured is None:
        _configured = _from_environment()
    return _configured


async def refusal(message: Any) -> Optional[Decision]:
    """None if `message` (a Rasa UserMessage) is within its sender's limit, else the refusal."""
    limit, store = configured()
    if limit is None:
        return None
    key = f"{message.input_channel or 'unknown'}:{message.sender_id}"
    decision = await store.hit(key, limit)
    if decision.allowed:
        return None
    if decision.first:
        logger.info("Sender %r over the limit of %s; refusing for %.0f s",
                    message.sender_id, limit, decision.retry_after)
    return decision
