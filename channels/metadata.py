"""What is kept of a message's metadata: it is stored with the user's message in the tracker
store, so only what the assistant uses, small, is kept (README, "Operating it safely").

Channels and REST clients may send any JSON object as metadata (the REST body may be up to
IOM_MAX_BODY_BYTES, 1 MB). `kept()` returns only:
  language     the page's or app's language ("fr", "en-GB"...), read by actions/language.py;
  message_id   a client's or platform's id of the message (string or integer), for matching
               logs and replies;
each at most 64 characters, the whole at most MAX_METADATA_BYTES (256) as JSON. Everything else
(other keys, longer values, nested objects) is dropped before Rasa sees the message.
"""

from __future__ import annotations

import json
from typing import Any, Dict

KEPT_KEYS = ("language", "message_id")
MAX_VALUE_CHARS = 64
MAX_METADATA_BYTES = 256


def kept(metadata: Any) -> Dict[str, Any]:
    if not isinstance(metadata, dict):
        return {}
    result: Dict[str, Any] = {}
    for key in KEPT_KEYS:
        value = metadata.get(key)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            continue
        if len(str(value)) <= MAX_VALUE_CHARS:
            result[key] = value
    while result and len(json.dumps(result, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
        result.popitem()  # cannot happen with the limits above; kept as the cap's guarantee
    return result
