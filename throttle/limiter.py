"""The per-sender window: at most `count` messages in `seconds` from a sender's first message.

A sender's window opens with their first message and lasts `seconds`; the message after the
`count`-th is refused, and so is everything else until the window closes. `Decision.first` marks
the first refusal of a window (the one the user is told about). Two stores keep the windows:

- `MemoryStore`: one process (`make run`);
- `RedisStore`: shared by every Rasa server (`make run-scaled`, a deployment): one Redis key per
  sender, counted and given its lifetime by one Lua script, so that the servers never race and
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
from typing import Any, Callable, Optional, Tuple

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
    first: bool = False  # the first refusal of this window

    @staticmethod
    def of(count: int, window_left: float, limit: Limit) -> "Decision":
        """The decision for the `count`-th message of a window with `window_left` seconds left."""
        if count <= limit.count:
            return Decision(True)
        return Decision(False, max(window_left, 0.001), count == limit.count + 1)


class MemoryStore:
    """Windows of one process, bounded: expired ones are dropped as new senders arrive (every
    window lasts the same time, so insertion order is expiry order), and at most `max_senders`
    are kept (the oldest window goes first)."""

    def __init__(self, max_senders: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.max_senders = max_senders
        self.clock = clock
        self._windows: "OrderedDict[str, list]" = OrderedDict()  # key -> [closes_at, count]

    async def hit(self, key: str, limit: Limit) -> Decision:
        now = self.clock()
        window = self._windows.get(key)
        if window is None or window[0] <= now:
            if window is not None:
                del self._windows[key]
            self._expire(now)
            window = self._windows[key] = [now + limit.seconds, 0]
        window[1] += 1
        return Decision.of(window[1], window[0] - now, limit)

    def _expire(self, now: float) -> None:
        while self._windows:
            key, (closes_at, _) = next(iter(self._windows.items()))
            if closes_at > now and len(self._windows) < self.max_senders:
                return
            del self._windows[key]


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


class RedisStore:
    """Windows in Redis, shared by all servers. If Redis cannot be reached the message is let
    through (the assistant keeps answering; the error is logged at most once a minute)."""

    def __init__(self, host: str, port: int = 6379, password: Optional[str] = None, db: int = 1,
                 prefix: str = "iom:rate:") -> None:
        self.settings = dict(host=host, port=port, password=password or None, db=db)
        self.prefix = prefix
        self._client: Any = None
        self._script: Any = None
        self._last_error = 0.0

    def _connect(self) -> Tuple[Any, Any]:
        if self._client is None:
            import redis.asyncio

            self._client = redis.asyncio.Redis(socket_timeout=2, socket_connect_timeout=2,
                                               **self.settings)
            self._script = self._client.register_script(_HIT)
        return self._client, self._script

    async def hit(self, key: str, limit: Limit) -> Decision:
        _, script = self._connect()
        try:
            count, left_ms = await script(keys=[self.prefix + key],
                                          args=[max(1, int(limit.seconds * 1000))])
        except Exception as error:  # redis.RedisError, OSError, timeouts: never block users
            if time.monotonic() - self._last_error > 60:
                self._last_error = time.monotonic()
                logger.error("Rate limit not applied: Redis %s:%s unreachable (%r)",
                             self.settings["host"], self.settings["port"], error)
            return Decision(True)
        return Decision.of(int(count), int(left_ms) / 1000, limit)
