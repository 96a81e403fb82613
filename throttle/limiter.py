"""Fixed windows: at most `count` hits of a key in `seconds` from the key's first hit.

A key's window opens with its first hit and lasts `seconds`; the hit after the `count`-th is
refused, and so is everything else until the window closes. `Decision.first` marks the first
refusal of a window (the one the user is told about). The keys are a sender's messages, a client
address's messages, and a client address's new conversations (throttle/__init__.py). Each store
offers three operations:

- `hit(key, limit)`: count one hit of `key`;
- `new_conversation(seen_key, counter_key, limit)`: `seen_key` (an address and a sender) already
  seen within the window -> allowed and not counted; else one hit of `counter_key` and, when
  allowed, `seen_key` remembered for the window (a refused sender is not remembered: its next
  message is still a new conversation);
- `first(key, seconds)`: True the first time within `seconds` (whom to tell about a refusal).

Two stores keep the windows:

- `MemoryStore`: one process (`make run`);
- `RedisStore`: shared by every Rasa server (`make run-scaled`, a deployment): one Redis key per
  window, counted and given its lifetime by a Lua script, so that the servers never race and
  the window runs on Redis's clock, whatever the servers' clocks say.

Why not the `limits` package: every release that has asyncio support requires packaging>=21,
and Rasa 3.6 pins packaging<21.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

logger = logging.getLogger(__name__)

_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d*(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
OFF = ("off", "none", "0", "no", "false")


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds:g}s"


def parse_limit(text: str) -> Optional[Limit]:
    """'20/30s', '100/5m', '5/s' -> Limit; 'off' -> None; anything else -> ValueError."""
    if text.strip().lower() in OFF:
        return None
    match = _LIMIT.match(text)
    if not match:
        raise ValueError(f"{text!r}: expected COUNT/SECONDS, e.g. 20/30s, 100/5m or off")
    count = int(match.group(1))
    span = float(match.group(2) or 1) * _UNITS[(match.group(3) or "s").lower()]
    if count < 1 or span <= 0:
        raise ValueError(f"{text!r}: the count and the window must be positive")
    return Limit(count, span)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until the window closes (refusals only)
    first: bool = False  # the first refusal of this window (or, per address: of this sender)
    # Which limit refused: "sender", "address" (messages) or "conversations" (new ones).
    reason: str = ""
    limit: Optional[Limit] = None  # the limit that refused

    @staticmethod
    def of(count: int, window_left: float, limit: Limit, reason: str = "sender") -> "Decision":
        """The decision for the `count`-th message of a window with `window_left` seconds left."""
        if count <= limit.count:
            return Decision(True)
        return Decision(False, max(window_left, 0.001), count == limit.count + 1, reason, limit)


class MemoryStore:
    """Windows of one process, bounded: one table per window length, so that in each table
    insertion order is expiry order; expired windows are dropped as new keys arrive, and at most
    `max_senders` are kept per table (the oldest window goes first)."""

    def __init__(self, max_senders: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.max_senders = max_senders
        self.clock = clock
        # window length -> key -> [closes_at, count]
        self._tables: "Dict[float, OrderedDict[str, list]]" = {}

    @property
    def _windows(self) -> "OrderedDict[str, list]":
        """Every open window, all tables together (for tests and inspection)."""
        merged: "OrderedDict[str, list]" = OrderedDict()
        for table in self._tables.values():
            merged.update(table)
        return merged

    def _window(self, key: str, seconds: float, now: float, create: bool) -> Optional[list]:
        table = self._tables.setdefault(seconds, OrderedDict())
        window = table.get(key)
        if window is not None and window[0] <= now:
            del table[key]
            window = None
        if window is None and create:
            self._expire(table, now)
            window = table[key] = [now + seconds, 0]
        return window

    async def hit(self, key: str, limit: Limit, reason: str = "sender") -> Decision:
        now = self.clock()
        window = self._window(key, limit.seconds, now, create=True)
        window[1] += 1
        return Decision.of(window[1], window[0] - now, limit, reason)

    async def new_conversation(self, seen_key: str, counter_key: str, limit: Limit) -> Decision:
        now = self.clock()
        if self._window(seen_key, limit.seconds, now, create=False) is not None:
            return Decision(True)
        decision = await self.hit(counter_key, limit, "conversations")
        if decision.allowed:
            self._window(seen_key, limit.seconds, now, create=True)
        return decision

    async def first(self, key: str, seconds: float) -> bool:
        now = self.clock()
        if self._window(key, seconds, now, create=False) is not None:
            return False
        self._window(key, seconds, now, create=True)
        return True

    def _expire(self, table: "OrderedDict[str, list]", now: float) -> None:
        while table:
            key, (closes_at, _) = next(iter(table.items()))
            if closes_at > now and len(table) < self.max_senders:
                return
            del table[key]


# KEYS[1]: the sender's counter; ARGV[1]: the window in milliseconds. Returns {count, ms left}.
_HIT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if count == 1 or left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""

# KEYS[1]: the (address, sender) pair, KEYS[2]: the address's counter of new conversations;
# ARGV[1]: the window in milliseconds, ARGV[2]: the limit. Returns {count, ms left}, {0, 0} when
# the pair was already seen (not a new conversation).
_NEW_CONVERSATION = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, 0}
end
local count = redis.call('INCR', KEYS[2])
local left = redis.call('PTTL', KEYS[2])
if count == 1 or left < 0 then
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
  left = tonumber(ARGV[1])
end
if count <= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return {count, left}
"""


class RedisStore:
    """Windows in Redis, shared by all servers. If Redis cannot be reached the message is let
    through (the assistant keeps answering; the error is logged at most once a minute)."""

    def __init__(self, host: str, port: int = 6379, password: Optional[str] = None, db: int = 1,
                 prefix: str = "iom:rate:") -> None:
        self.settings = dict(host=host, port=port, password=password or None, db=db)
        self.prefix = prefix
        self._client: Any = None
        self._scripts: Dict[str, Any] = {}
        self._last_error = 0.0

    def _connect(self) -> Tuple[Any, Dict[str, Any]]:
        if self._client is None:
            import redis.asyncio

            self._client = redis.asyncio.Redis(socket_timeout=2, socket_connect_timeout=2,
                                               **self.settings)
            self._scripts = {"hit": self._client.register_script(_HIT),
                             "new": self._client.register_script(_NEW_CONVERSATION)}
        return self._client, self._scripts

    def _unreachable(self, error: Exception) -> None:
        if time.monotonic() - self._last_error > 60:
            self._last_error = time.monotonic()
            logger.error("Rate limit not applied: Redis %s:%s unreachable (%r)",
                         self.settings["host"], self.settings["port"], error)

    async def hit(self, key: str, limit: Limit, reason: str = "sender") -> Decision:
        _, scripts = self._connect()
        try:
            count, left_ms = await scripts["hit"](keys=[self.prefix + key],
                                                  args=[_milliseconds(limit.seconds)])
        except Exception as error:  # redis.RedisError, OSError, timeouts: never block users
            self._unreachable(error)
            return Decision(True)
        return Decision.of(int(count), int(left_ms) / 1000, limit, reason)

    async def new_conversation(self, seen_key: str, counter_key: str, limit: Limit) -> Decision:
        _, scripts = self._connect()
        try:
            count, left_ms = await scripts["new"](
                keys=[self.prefix + seen_key, self.prefix + counter_key],
                args=[_milliseconds(limit.seconds), limit.count])
        except Exception as error:
            self._unreachable(error)
            return Decision(True)
        return Decision.of(int(count), int(left_ms) / 1000, limit, "conversations")

    async def first(self, key: str, seconds: float) -> bool:
        client, _ = self._connect()
        try:
            return bool(await client.set(self.prefix + key, 1, nx=True, px=_milliseconds(seconds)))
        except Exception as error:
            self._unreachable(error)
            return True


def _milliseconds(seconds: float) -> int:
    return max(1, int(seconds * 1000))
