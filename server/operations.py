"""What an operator asks the Rasa server (docs/operating.md, "Monitoring"; the contract's
"Operations"): `GET /ready`, `GET /live` on the server's own port, and its Prometheus metrics on a
port of their own (IOM_METRICS_PORT, default 9102, bound to 127.0.0.1 unless IOM_METRICS_HOST says
otherwise).

How they get onto Rasa's Sanic app: through Rasa's public extension point for routes, an input
channel listed in credentials.yml (`server.operations.OperationsEndpoints`). Rasa mounts each
channel's blueprint at `urljoin("/webhooks/", channel.url_prefix())`; this one's prefix is "/",
so its routes are `/ready` and `/live`. It takes no user messages. Its blueprint's listeners
(Sanic's public API) start the metrics port before the server starts and mark the server as
stopping before it stops.

- `/live`: 200 while the process serves requests (its event loop answers).
- `/ready`: 200 when the model is loaded (and has read one message, `Readiness.warm_up`) and the
  action server answers its `/health`; else 503
  with a JSON body giving the reasons (also while the server is stopping, so that a load
  balancer sends nothing new to it). The action server is asked at most once every
  `CHECK_EVERY` seconds (one request in flight at a time, `TIMEOUT` at most), whoever polls
  /ready and however often: a load balancer polling it costs one small request every 2 s. So
  /ready turns 503 at most CHECK_EVERY + TIMEOUT (3 s) after the action server stops, and 200
  again at most CHECK_EVERY after it is back.
- the metrics carry `iom_ready` (1 or 0, the same answer as /ready), checked again when a scrape
  finds the answer older than CHECK_EVERY.

Reads of Rasa's internals (no replacement; registered in server/internals.py, so a Rasa upgrade
that changed them stops the server at start instead of /ready saying "model not loaded" for
ever): `app.ctx.agent`, which `rasa.core.run.load_agent_on_start` sets (Rasa's own channel
handler uses it the same way), `Agent.is_ready()` and `Agent.action_endpoint` (an
EndpointConfig: its `url`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from server import metrics_port

logger = logging.getLogger(__name__)

CHECK_EVERY = 2.0
TIMEOUT = 1.0
WARM_UP_TEXT = "Bonjour"

State = Tuple[bool, List[str]]


def health_url(webhook_url: str) -> str:
    """rasa-sdk's /health beside its /webhook: http://host:5055/webhook -> http://host:5055/health."""
    parts = urlsplit(webhook_url)
    path = parts.path
    path = (path[: -len("/webhook")] if path.endswith("/webhook") else path.rstrip("/")) + "/health"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class Readiness:
    """Whether this Rasa server can answer people; the action server's answer cached briefly."""

    def __init__(self, agent: Callable[[], Any]) -> None:
        self._agent = agent
        self.stopping = False
        self._checked_at = float("-inf")
        self._action_server: Optional[str] = None  # None: answered; else why not
        self._check: Optional[asyncio.Task] = None
        self._session: Optional[aiohttp.ClientSession] = None
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.last: State = (False, ["not checked yet"])
        self.warmed_up = False

    def _model_problem(self) -> Optional[str]:
        agent = self._agent()
        try:
            if agent is not None and agent.is_ready():
                return None if self.warmed_up else "model warming up"
        except Exception:  # a Rasa upgrade changed Agent: say so rather than fail the probe
            logger.exception("Cannot tell whether the model is loaded")
        return "model not loaded"

    async def warm_up(self) -> None:
        """Reads one message with the loaded model before /ready says ready: the first reading
        compiles the regular expressions of the regex featurizer and entity extractor (Python
        compiles a pattern on its first use), ~0.3 s, over 1 s on a busy machine, which the
        first user's message after a start would otherwise wait for."""
        agent = self._agent()
        started = time.monotonic()
        try:
            if agent is not None and agent.is_ready():
                await agent.parse_message(WARM_UP_TEXT)
                logger.info("Model warmed up in %.2f s", time.monotonic() - started)
        except Exception:
            logger.exception("Warming up the model failed; the first message will do it")
        finally:
            self.warmed_up = True

    async def _ask_action_server(self, url: str) -> Optional[str]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))
        try:
            async with self._session.get(url) as answer:
                if answer.status == 200:
                    return None
                return f"action server answers {answer.status}"
        except asyncio.TimeoutError:
            return f"action server does not answer within {TIMEOUT:g} s"
        except aiohttp.ClientError as error:
            refused = isinstance(getattr(error, "os_error", None), ConnectionRefusedError)
            # Never the address: /ready is on the public port.
            return f"action server does not answer ({'connection refused' if refused else type(error).__name__})"

    async def _action_server_problem(self) -> Optional[str]:
        agent = self._agent()
        endpoint = getattr(agent, "action_endpoint", None)
        url = getattr(endpoint, "url", None)
        if not url:
            return "no action server configured (endpoints.yml: action_endpoint)"
        if time.monotonic() - self._checked_at >= CHECK_EVERY:
            # One request in flight: whoever comes while it runs waits for the same answer.
            if self._check is None or self._check.done():
                self._check = asyncio.ensure_future(self._ask_action_server(health_url(url)))
            self._action_server = await asyncio.shield(self._check)
            self._checked_at = time.monotonic()
        return self._action_server

    async def state(self) -> State:
        """(ready, reasons it is not)."""
        if self.stopping:
            self.last = (False, ["stopping"])
            return self.last
        reasons = [problem for problem in (self._model_problem(),) if problem]
        if not reasons:
            action_problem = await self._action_server_problem()
            if action_problem:
                reasons.append(action_problem)
        self.last = (not reasons, reasons)
        return self.last

    def state_from_thread(self) -> State:
        """For the metrics thread: a fresh answer if the cached one is old (asked on the loop)."""
        if self.stopping:
            return False, ["stopping"]
        loop = self.loop
        if loop is not None and not loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(self.state(), loop)
            try:
                return future.result(TIMEOUT + 1)
            except Exception:
                future.cancel()
        return self.last

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class ReadinessCollector:
    """`iom_ready` for Prometheus, from the same check as /ready."""

    def __init__(self, readiness: Readiness) -> None:
        self.readiness = readiness

    def collect(self) -> Any:
        ready, _ = self.readiness.state_from_thread()
        gauge = GaugeMetricFamily(
            "iom_ready", "1 when this Rasa server is ready (model loaded, action server answers)")
        gauge.add_metric([], 1.0 if ready else 0.0)
        yield gauge

    def describe(self) -> Any:
        return []  # collect() asks the server: not at registration time


class OperationsEndpoints(InputChannel):
    """/ready, /live and the metrics port; listed in credentials.yml like a channel, takes no
    user messages."""

    # The start-up's check of channels (server/channel_check.py): no guard needed, and the
    # callback this blueprint gets drops anything.
    TAKES_NO_USER_MESSAGES = True

    @classmethod
    def name(cls) -> str:
        return "operations"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "OperationsEndpoints":
        return cls()

    def url_prefix(self) -> str:
        return "/"  # urljoin("/webhooks/", "/") == "/": the routes are /ready and /live

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        operations = Blueprint("iom_operations", __name__)
        readiness: Dict[str, Readiness] = {}

        @operations.listener("before_server_start")
        async def start(app: Any, loop: asyncio.AbstractEventLoop) -> None:
            check = Readiness(lambda: getattr(app.ctx, "agent", None))
            check.loop = loop
            readiness["check"] = check
            REGISTRY.register(ReadinessCollector(check))
            metrics_port.serve("Rasa server")

        @operations.listener("after_server_start")  # after Rasa's listener loaded the model
        async def warm_up(app: Any, loop: asyncio.AbstractEventLoop) -> None:
            await readiness["check"].warm_up()

        @operations.listener("before_server_stop")
        async def stopping(app: Any, loop: asyncio.AbstractEventLoop) -> None:
            if "check" in readiness:
                readiness["check"].stopping = True

        @operations.listener("after_server_stop")
        async def stopped(app: Any, loop: asyncio.AbstractEventLoop) -> None:
            if "check" in readiness:
                await readiness["check"].close()

        @operations.get("/live")
        async def live(request: Request) -> HTTPResponse:
            return response.json({"live": True})

        @operations.get("/ready")
        async def ready(request: Request) -> HTTPResponse:
            check = readiness.get("check")
            if check is None:
                return response.json({"ready": False, "reasons": ["starting"]}, status=503)
            ok, reasons = await check.state()
            return response.json({"ready": ok, "reasons": reasons}, status=200 if ok else 503)

        return operations
