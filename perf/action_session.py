"""Keeps one HTTP session (and its kept-alive connections) per endpoint instead of one per call.

Rasa 3.6's `EndpointConfig.request` opens a new `aiohttp.ClientSession` for every call, so every
custom action costs a new session, a new TCP connection and its teardown: 1.20 ms per request
against 0.50 ms with a reused session (measured against our action server), ~5% of the Rasa
server's CPU under load (py-spy: `EndpointConfig.request` -> `ClientSession.__aenter__`).

Here each `EndpointConfig` keeps its session for the event loop it runs in (headers, auth and
timeouts as Rasa sets them; per-call arguments unchanged). What a pooled connection changes, and
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
import os
import ssl
import weakref
from typing import Any, Optional, Text

import aiohttp
from rasa.shared.exceptions import FileNotFoundException
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.utils.endpoints import ClientResponseError, EndpointConfig, concat_url

logger = logging.getLogger(__name__)

IDLE_SECONDS = 2.0
_SESSION = "_iom_session"
_OPEN: "weakref.WeakSet[aiohttp.ClientSession]" = weakref.WeakSet()
_installed = False
# Errors that mean "the connection was gone before the server answered".
_STALE_CONNECTION = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


def _session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
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


async def request(
    self: EndpointConfig,
    method: Text = "post",
    subpath: Optional[Text] = None,
    content_type: Optional[Text] = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Optional[Any]:
    """`EndpointConfig.request` (same arguments, result and errors) on a pooled session."""
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs.pop("headers"))
    if self.headers:
        headers.update(self.headers)
    url = concat_url(self.url, subpath)
    ssl_context = _ssl_context(self)
    params = self.combine_parameters(kwargs)

    for attempt in (1, 2):
        session = _session(self)
        try:
            async with session.request(
                method, url, headers=headers, params=params, compress=compress,
                ssl=ssl_context, **kwargs,
            ) as response:
                if response.status >= 400:
                    raise ClientResponseError(
                        response.status, response.reason, await response.content.read()
                    )
                try:
                    return await response.json()
                except aiohttp.ContentTypeError:
                    return None
        except _STALE_CONNECTION as error:
            # ClientConnectorError (refused, unreachable) is a ClientOSError too: not stale.
            if attempt == 2 or isinstance(error, aiohttp.ClientConnectorError):
                raise
            logger.debug("Connection to %s was closed (%s); sending once more", url, error)
    return None  # not reached


def _ssl_context(endpoint: EndpointConfig) -> Optional[ssl.SSLContext]:
    if not endpoint.cafile:
        return None
    try:
        return ssl.create_default_context(cafile=endpoint.cafile)
    except FileNotFoundError as e:
        raise FileNotFoundException(
            f"Failed to find certificate file, "
            f"'{os.path.abspath(endpoint.cafile)}' does not exist."
        ) from e


def _close_all() -> None:
    for session in list(_OPEN):
        connector = session.connector
        if connector is not None and not connector.closed:
            connector._close()


def install() -> None:
    """Makes every `EndpointConfig.request` of this process use a pooled session."""
    global _installed
    if not _installed:
        EndpointConfig.request = request
        atexit.register(_close_all)
        _installed = True
