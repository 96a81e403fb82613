"""Keeps one HTTP session (and its kept-alive connections) per endpoint instead of one per call.

Rasa 3.6's `EndpointConfig.request` opens a new `aiohttp.ClientSession` for every call, so every
custom action costs a new session, a new TCP connection and its teardown: 1.20 ms per request
against 0.50 ms with a reused session (measured against our action server), ~5% of the Rasa
server's CPU under load (py-spy: `EndpointConfig.request` -> `ClientSession.__aenter__`).

Here each `EndpointConfig` keeps its session for the event loop it runs in (headers, auth and
timeouts as Rasa sets them): `EndpointConfig.session()` lends it instead of opening a new one, and
Rasa's own `EndpointConfig.request` runs unchanged on it. What a pooled connection changes, and
how it is handled:
- A kept-alive connection may have been closed by the server between two calls (the action server
  restarted, or its keep-alive of 5 s ran out at that very moment). The request on it then fails
  before any answer with `ServerDisconnectedError` or a connection reset. aiohttp never writes a
  request on a pooled connection it already knows is closed (the pool checks it and the headers
  are written in the same step of the event loop), so when this happens the request was written:
  the server may have read it, run the action and died before answering, and nothing on the
  client side tells that apart from a close that crossed the request. So the request is sent
  once more, on a new connection, only for an action the endpoint marks as safe to run twice:
  `read_only_actions` under `action_endpoint` in endpoints.yml (this assistant's one action only
  read the facts file and return events). Any other action's call fails as in Rasa (the user gets
  "temporarily unavailable"), as do all other errors (refused, timeout, HTTP status), so a
  stopped action server still fails fast.
- Idle connections are dropped after 2 s, before the action server's 5 s keep-alive closes them.
- Sessions are closed when the process exits (no "Unclosed client session" error in the log).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import weakref
from typing import Any, Optional, Tuple

import aiohttp
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.utils.endpoints import EndpointConfig

from server import patching

logger = logging.getLogger(__name__)

SESSION = "rasa.utils.endpoints:EndpointConfig.session"
REQUEST = "rasa.utils.endpoints:EndpointConfig.request"
REPLACES = {
    SESSION: ("self",),
    REQUEST: ("self", "method", "subpath", "content_type", "compress", "kwargs"),
}

IDLE_SECONDS = 2.0
_SESSION = "_iom_session"
_OPEN: "weakref.WeakSet[aiohttp.ClientSession]" = weakref.WeakSet()
_closer_registered = False
# Errors that mean "the connection was gone before the server answered".
_STALE_CONNECTION = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)
_rasa_request: Any = None  # Rasa's own EndpointConfig.request, set by install()


def _kept_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    kept: Optional[Tuple[aiohttp.ClientSession, asyncio.AbstractEventLoop]] = endpoint.__dict__.get(_SESSION)
    session = kept[0] if kept and kept[1] is loop else None
    if session is None or session.closed:
        # The settings of Rasa's `EndpointConfig.session()`, plus the connector's idle limit.
        auth = None
        if endpoint.basic_auth:
            auth = aiohttp.BasicAuth(
                endpoint.basic_auth["username"], endpoint.basic_auth["password"]
            )
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_SECONDS),
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        )
        endpoint.__dict__[_SESSION] = (session, loop)  # a session belongs to its loop
        _OPEN.add(session)
    return session


class _LentSession:
    """What `EndpointConfig.session()` returns here. Rasa only uses it as `async with
    endpoint.session() as session` (in `EndpointConfig.request` and the model-server pull): that
    lends the endpoint's kept session instead of opening one and closing it afterwards."""

    def __init__(self, endpoint: EndpointConfig) -> None:
        self._endpoint = endpoint

    async def __aenter__(self) -> aiohttp.ClientSession:
        return _kept_session(self._endpoint)

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def session(self: EndpointConfig) -> _LentSession:
    return _LentSession(self)


READ_ONLY_ACTIONS = "read_only_actions"  # the action endpoint's setting (endpoints.yml)


def _safe_to_send_again(endpoint: EndpointConfig, kwargs: Any) -> bool:
    """The call is for an action the endpoint marks as safe to run twice (Rasa sends
    `{"next_action": <name>, ...}` as the body of every action call)."""
    body = kwargs.get("json")
    action = body.get("next_action") if isinstance(body, dict) else None
    return action is not None and action in (endpoint.kwargs.get(READ_ONLY_ACTIONS) or ())


async def request(self: EndpointConfig, *args: Any, **kwargs: Any) -> Optional[Any]:
    """Rasa's own `EndpointConfig.request`, sent once more if the kept-alive connection it used
    turned out to be closed by the server before any answer and the action is read-only."""
    try:
        return await _rasa_request(self, *args, **kwargs)
    except _STALE_CONNECTION as error:
        # ClientConnectorError (refused, unreachable) is a ClientOSError too: not stale.
        if isinstance(error, aiohttp.ClientConnectorError) or not _safe_to_send_again(self, kwargs):
            raise
        logger.debug("Connection to %s was closed (%s); sending once more", self.url, error)
    return await _rasa_request(self, *args, **kwargs)


def _close_all() -> None:
    for kept in list(_OPEN):
        connector = kept.connector
        if connector is not None and not connector.closed:
            connector._close()


def install() -> None:
    """Makes every `EndpointConfig` of this process keep its session (and retry as above)."""
    global _closer_registered, _rasa_request
    _rasa_request = patching.original(REQUEST)
    patching.replace(SESSION, session)
    patching.replace(REQUEST, request)
    if not _closer_registered:
        atexit.register(_close_all)
        _closer_registered = True
