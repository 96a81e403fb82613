"""Settings of the Rasa server read from the environment, in one place that imports nothing of the
project: the start-up (server.install()) reads them before Rasa is imported, the channels after."""

from __future__ import annotations

import logging
import os
from typing import Any

logger = logging.getLogger(__name__)


def env_number(name: str, default: float, kind: type = float) -> Any:
    """A positive number from the environment; the default (and an error in the log) otherwise."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        logger.error("%s=%r is not a number; using %s", name, raw, default)
        return kind(default)
    if value <= 0:
        logger.error("%s=%r must be positive; using %s", name, raw, default)
        return kind(default)
    return value


# server.install() (the one entry point for replacements of Rasa internals) sets Rasa's
# rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT to this: RemoteAction.run passes it as the
# aiohttp timeout of every custom action call; it is the only knob for that timeout.
ACTION_TIMEOUT: float = env_number("IOM_ACTION_TIMEOUT", 5.0)
# How long after its start the Rasa server waits for an action server that is not listening yet
# (server/action_start.py, installed by server.install()): `make run` starts both side by side.
ACTION_START_WAIT: float = env_number("IOM_ACTION_START_WAIT", 10.0)
# The largest request body the Rasa server reads (server/hardening.py: refused from its
# Content-Length before it is read; channels/rest.py says so in its own words).
MAX_BODY_BYTES: int = env_number("IOM_MAX_BODY_BYTES", 1_000_000, int)
# The longest message text the assistant reads (channels/guard.py answers longer ones politely;
# the action server refuses calls about longer ones: actions/action_server.py).
MAX_MESSAGE_CHARS: int = env_number("IOM_MAX_MESSAGE_CHARS", 1000, int)
