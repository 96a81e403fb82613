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
  restarted, or its keep-alive of 5 s ran out at that very moment). The first request on it then
  fails before any answer with `ServerDisconnectedError` or a connection reset. Such a request is
  sent once more, on a new connection; any other error (refused, timeout, HTTP status) is raised
  as before, so a stopped action server still fails fast. Sending an action call twice is safe
  for this assistant: its actions only read the facts file and return events.
- Idle connections are dropped after 2 s, before the action server's 5 s keep-alive closes them.
- Sessions are closed when the process exits (no "Unclosed client session" error in the log).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import weakref
from typing import Any, Optional

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
    session: Optional[aiohttp.ClientSession] = endpoint.__dict__.get(_SESSION)
    if session is None or session.closed or session._loop is not loop:
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
        endpoint.__dict__[_SESSION] = session
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


async def request(self: EndpointConfig, *args: Any, **kwargs: Any) -> Optional[Any]:
    """Rasa's own `EndpointConfig.request`, sent once more if the kept-alive connection it used
    turned out to be closed by the server before any answer."""
    try:
        return await _rasa_request(self, *args, **kwargs)
    except _STALE_CONNECTION as error:
        # ClientConnectorError (refused, unreachable) is a ClientOSError too: not stale.
        if isinstance(error, aiohttp.ClientConnectorError):
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
