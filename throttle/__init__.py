"""Limits on messages for every channel (docs/operating.md, "Throttling" and "Per address").

`channels/guard.py` asks `refusal(message, address)` for each user message before anything else.
Over a limit the message is neither processed nor stored; the guard tells the user once
(messages.slow_down) and the REST channel answers 429 with Retry-After. Three limits:

- per sender and channel, every channel: IOM_RATE_LIMIT messages (default 40/30s);
- per client address, for the channels that have one (REST and socket.io; not Telegram and
  WhatsApp, whose calls come from a few addresses of the platforms for all their users):
  IOM_ADDRESS_RATE_LIMIT messages (default 50/10s) and IOM_NEW_CONVERSATION_LIMIT new
  conversations (default 30/10m). A conversation is new for an address when its sender id has
  not sent a message from that address within the last window: so a client that picks a new
  sender id for every message (or a new socket.io session) gets at most that many through, and
  a refused message creates no conversation. An address is IPv4, or an IPv6 /64 (one household
  or office gets a /64 or more); channels/client_address.py says which address a request is
  from (the forwarded one only from IOM_TRUSTED_PROXIES). IOM_ADDRESS_LIMIT_EXEMPT lists
  addresses (an integrator's back end calling REST for all its users) these do not apply to.

Keys hold no sender id and no address in clear: each is a SHA-256 digest (in Redis, keys live
only for their window).

Environment (read once, at the first message):
  IOM_RATE_LIMIT, IOM_ADDRESS_RATE_LIMIT, IOM_NEW_CONVERSATION_LIMIT
                         COUNT/WINDOW (`40/30s`, `100/5m`) or `off` (benchmarks, load tests)
  REDIS_HOST             when set, the windows live in Redis, shared by all Rasa servers (the
                         variables of deploy/endpoints.yml's lock store: REDIS_PORT (6379),
                         REDIS_PASSWORD); unset, they live in this process's memory
  IOM_RATE_LIMIT_REDIS_DB     (1, the lock store's database)  IOM_RATE_LIMIT_PREFIX (iom:rate:)

For counters (metrics): `refusal` returns a Decision whose `reason` says which limit refused
("sender", "address", "conversations"); None means the message goes on.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from typing import Any, Optional, Union

from throttle.limiter import Decision, Limit, MemoryStore, RedisStore, parse_limit

__all__ = ["Decision", "Limit", "Limits", "Refusal", "configured", "refusal", "DEFAULT_LIMIT",
           "DEFAULT_ADDRESS_LIMIT", "DEFAULT_CONVERSATION_LIMIT"]

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = "40/30s"
DEFAULT_ADDRESS_LIMIT = "50/10s"
DEFAULT_CONVERSATION_LIMIT = "30/10m"
Refusal = Decision  # what `refusal` returns for a refused message


@dataclass(frozen=True)
class Limits:
    sender: Optional[Limit]
    address: Optional[Limit]
    conversations: Optional[Limit]
    store: Union[MemoryStore, RedisStore, None]


_configured: Optional[Limits] = None


def _limit(name: str, default: str) -> Optional[Limit]:
    raw = os.environ.get(name, "").strip() or default
    try:
        return parse_limit(raw)
    except ValueError as error:
        logger.error("%s %s; using %s", name, error, default)
        return parse_limit(default)


def _from_environment() -> Limits:
    sender = _limit("IOM_RATE_LIMIT", DEFAULT_LIMIT)
    address = _limit("IOM_ADDRESS_RATE_LIMIT", DEFAULT_ADDRESS_LIMIT)
    conversations = _limit("IOM_NEW_CONVERSATION_LIMIT", DEFAULT_CONVERSATION_LIMIT)
    store: Union[MemoryStore, RedisStore, None] = None
    if sender or address or conversations:
        host = os.environ.get("REDIS_HOST", "").strip()
        if host:
            store = RedisStore(
                host, int(os.environ.get("REDIS_PORT") or 6379), os.environ.get("REDIS_PASSWORD"),
                int(os.environ.get("IOM_RATE_LIMIT_REDIS_DB") or 1),
                os.environ.get("IOM_RATE_LIMIT_PREFIX") or "iom:rate:",
            )
        else:
            store = MemoryStore()
    logger.info("Limits: per sender %s, per address %s messages and %s new conversations (%s)",
                sender or "off", address or "off", conversations or "off",
                type(store).__name__ if store else "-")
    return Limits(sender, address, conversations, store)


def configured() -> Limits:
    """The limits and their store, from the environment on first use."""
    global _configured
    if _configured is None:
        _configured = _from_environment()
    return _configured


def digest(*parts: Any) -> str:
    """A key part that names a sender or an address without holding it."""
    return hashlib.sha256("\n".join(str(part) for part in parts).encode()).hexdigest()[:32]


async def refusal(message: Any, address: Optional[str] = None) -> Optional[Decision]:
    """None if `message` (a Rasa UserMessage) is within its limits, else the refusal.

    `address`: the client address the message came from (channels/client_address.py), None for
    channels without one (Telegram, WhatsApp: the platforms' servers call for all their users)
    and for exempt addresses."""
    limits = configured()
    store = limits.store
    if store is None:
        return None
    sender = digest(message.input_channel or "unknown", message.sender_id)
    if limits.sender is not None:
        decision = await store.hit(f"sender:{sender}", limits.sender)
        if not decision.allowed:
            if decision.first:  # no sender id in the log (docs/privacy.md)
                logger.info("A %s sender is over the limit of %s; refusing for %.0f s",
                            message.input_channel or "unknown", limits.sender,
                            decision.retry_after)
            return decision
    if address is None:
        return None
    place = digest(address)
    decision = Decision(True)
    if limits.address is not None:
        decision = await store.hit(f"address:{place}", limits.address, "address")
    if decision.allowed and limits.conversations is not None:
        decision = await store.new_conversation(
            f"seen:{place}:{sender}", f"conversations:{place}", limits.conversations)
    if decision.allowed:
        return None
    if decision.first:
        logger.info("A client address is over its limit of %s %s; refusing for %.0f s",
                    decision.limit, "messages" if decision.reason == "address"
                    else "new conversations", decision.retry_after)
    # Everyone behind the address is told once, not only the first one refused.
    told = await store.first(f"told:{decision.reason}:{place}:{sender}", decision.retry_after
                             if decision.limit is None else decision.limit.seconds)
    return Decision(False, decision.retry_after, told, decision.reason, decision.limit)
