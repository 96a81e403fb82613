"""The start-up refuses an input channel whose messages would not pass the guard.

Every channel's messages must pass channels/guard.py (limits, redaction, caps) before Rasa sees
them; a channel does that by wrapping, in its `blueprint(on_new_message)`, the callback Rasa gives
it with `channels.guard.guarded`. A stock `rest:` or `socketio:` line in credentials.yml (Rasa's
own channels) would hand messages to Rasa directly, silently. So while Rasa registers the input
channels (server/hardening.py wraps `rasa.core.run.configure_app`), each channel's `blueprint()`
is watched: `guarded(callback)` records the callback it wraps, and a channel whose blueprint did
not wrap the callback it was given stops the start with `UnguardedChannel`, naming it.

A channel that only adds routes and takes no user messages (server/operations.py: /ready,
/live) says so with the class attribute `TAKES_NO_USER_MESSAGES = True`; its blueprint then gets,
instead of Rasa's callback, one that drops whatever it is given (logged as an error), so the
declaration cannot open a way around the guard.

This module imports nothing of the project: channels/guard.py calls `guarded()` here (server/
imports nothing from channels/).
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any, Callable, List, Optional, Sequence

from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

# The callbacks `guarded()` wrapped during the `blueprint()` call being watched.
_WRAPPED: "contextvars.ContextVar[Optional[List[Any]]]" = contextvars.ContextVar(
    "iom_guarded_callbacks", default=None)


class UnguardedChannel(RasaException):
    """A configured input channel does not pass its messages through the guard.

    A RasaException: Rasa's command line prints it as one line and exits with status 1."""


def guarded(callback: Any) -> None:
    """Called by channels.guard.guarded with the callback it wraps."""
    wrapped = _WRAPPED.get()
    if wrapped is not None:
        wrapped.append(callback)


def watch(channel: Any, unguarded: List[str]) -> Callable[[], None]:
    """Wraps `channel.blueprint` (on the instance) so that a call that does not guard its
    callback adds the channel's name to `unguarded`; returns the function that unwraps it."""
    inner = channel.blueprint

    def blueprint(on_new_message: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(channel, "TAKES_NO_USER_MESSAGES", False) is True:
            name = _describe(channel)

            async def dropped(message: Any) -> None:
                logger.error("Input channel %s passed a user message; dropped (it declares "
                             "TAKES_NO_USER_MESSAGES)", name)

            return inner(dropped, *args, **kwargs)
        token = _WRAPPED.set([])
        try:
            result = inner(on_new_message, *args, **kwargs)
            wrapped = _WRAPPED.get() or []
        finally:
            _WRAPPED.reset(token)
        if not any(callback is on_new_message for callback in wrapped):
            unguarded.append(_describe(channel))
        return result

    channel.blueprint = blueprint

    def unwatch() -> None:
        if vars(channel).get("blueprint") is blueprint:
            del channel.blueprint

    return unwatch


def _describe(channel: Any) -> str:
    kind = type(channel)
    try:
        name = kind.name()
    except Exception:
        name = "?"
    return f"'{name}' ({kind.__module__}.{kind.__qualname__})"


def refuse(unguarded: Sequence[str]) -> None:
    if unguarded:
        raise UnguardedChannel(
            "Not starting: input channel(s) "
            + ", ".join(unguarded)
            + " would pass messages to Rasa without channels/guard.py (limits, redaction, caps)."
            " In credentials.yml use the project's channels instead of Rasa's own: "
            "channels.rest.GuardedRestInput (for `rest`), channels.socketio.SocketIOInput (for "
            "`socketio`), channels.telegram.TelegramInput, channels.whatsapp.WhatsAppInput.")
