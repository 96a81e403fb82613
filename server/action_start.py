"""An action call refused while the action server is still starting is sent again.

`make run` starts the action server and the Rasa server side by side (scripts/run.sh): the Rasa
server (about 1.5 s to load the model) may then be up a moment before the action server (about
1.5-2 s, with its language models), and Rasa 3.6 answers a message whose custom action finds the
port closed with our "temporarily unavailable" message. Here, until the action server has been
reached once, and for at most IOM_ACTION_START_WAIT seconds (server/settings.py, default 10) after
this process installed it (the Rasa server's start), a call whose connection was *refused* is sent
again every `RETRY_EVERY` seconds.

Why only then and only that error: a refused connection never reached the action server, so
sending it again cannot run an action twice; once the action server has answered, a refused
connection means it has stopped, and the call fails at once as in Rasa (tests/test_faults.py:
"unavailable" within 2 s). An action server that never comes up costs the early messages at most
the rest of the window, then they get the same "unavailable" as before.

Installed always (server/__init__.py), whichever replacements IOM_PERF_PATCHES chooses: it wraps the
`EndpointConfig.request` installed at that moment (Rasa's own, or server/action_session.py's).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from typing import Any, Optional

import aiohttp
from rasa.utils.endpoints import EndpointConfig

from server import patching

logger = logging.getLogger(__name__)

REQUEST = "rasa.utils.endpoints:EndpointConfig.request"
REPLACES = {REQUEST: ("self", "method", "subpath", "content_type", "compress", "kwargs")}

START_WINDOW = 10.0  # default of IOM_ACTION_START_WAIT
RETRY_EVERY = 0.05
_REACHED = "_iom_reached"  # set on an EndpointConfig once its server has been reached

_inner: Any = None  # the `EndpointConfig.request` this wraps, set by install()
_window_ends = 0.0


def _refused(error: aiohttp.ClientConnectorError) -> bool:
    return getattr(error.os_error, "errno", None) == errno.ECONNREFUSED


async def request(self: EndpointConfig, *args: Any, **kwargs: Any) -> Optional[Any]:
    """The wrapped `request`; while the server has not been reached yet and the start window is
    open, a refused connection is tried again instead of raised."""
    waited = False
    while True:
        try:
            result = await _inner(self, *args, **kwargs)
        except aiohttp.ClientConnectorError as error:
            if (self.__dict__.get(_REACHED) or not _refused(error)
                    or time.monotonic() + RETRY_EVERY > _window_ends):
                raise
            if not waited:
                logger.info("%s refused the connection: still starting? Trying again for up to "
                            "%.1f s", self.url, _window_ends - time.monotonic())
                waited = True
            await asyncio.sleep(RETRY_EVERY)
            continue
        except Exception:
            # It answered with an error status (Rasa's own ClientResponseError, not aiohttp's),
            # or the connection was made and then timed out: the server is up either way.
            self.__dict__[_REACHED] = True
            raise
        self.__dict__[_REACHED] = True
        return result


def install(window: float = START_WINDOW) -> None:
    """Wraps the `EndpointConfig.request` installed now; the window opens now."""
    global _inner, _window_ends
    _window_ends = time.monotonic() + window
    current = EndpointConfig.request
    if current is not request:  # installed twice without a restore: wrap only once
        _inner = current
    patching.replace(REQUEST, request)
