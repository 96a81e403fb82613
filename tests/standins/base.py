"""An aiohttp server on a free 127.0.0.1 port, run in a background thread, recording calls."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web


@dataclass
class Call:
    method: str  # API method name (Telegram) or resource (Twilio)
    params: Dict[str, Any]
    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)


class StandIn:
    """Subclasses add routes in `routes(app)` and record `Call`s with `record`."""

    def __init__(self) -> None:
        self.calls: List[Call] = []
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None
        self.port: Optional[int] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def snapshot(self, method: Optional[str] = None) -> List[Call]:
        with self._lock:
            return [c for c in self.calls if method is None or c.method == method]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def wait_for(
        self, predicate: Callable[[List[Call]], bool], timeout: float = 30, what: str = ""
    ) -> List[Call]:
        """Waits until `predicate(calls)` holds; fails with the calls seen so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.snapshot()
            if predicate(calls):
                return calls
            time.sleep(0.1)
        raise AssertionError(f"stand-in never saw {what or 'the expected calls'}: {self.snapshot()}")

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> "StandIn":
        ready = threading.Event()

        async def serve() -> None:
            app = web.Application()
            self.routes(app)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name=type(self).__name__, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
