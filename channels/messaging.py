"""Small helpers shared by the messaging-platform channels (Telegram, WhatsApp)."""

from __future__ import annotations

import os
from typing import List, Text


def env(name: str) -> str:
    """An environment variable, stripped; '' when unset (channels are configured only there)."""
    return (os.environ.get(name) or "").strip()


def split_text(text: Text, limit: int) -> List[Text]:
    """Text cut into pieces of at most `limit` characters (the platform's message limit), at line
    breaks if possible, else at spaces."""
    text = (text or "").strip() or "…"
    parts: List[Text] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].strip())
        text = text[cut:].strip()
    parts.append(text)
    return [p for p in parts if p]
