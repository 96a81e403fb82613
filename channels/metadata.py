"""What is kept of a message's metadata: it is stored with the user's message in the tracker
store, so only what the assistant uses, small, is kept (docs/operating.md, "What is stored with
a message").

Channels and REST clients may send any JSON object as metadata (the REST body may be up to
IOM_MAX_BODY_BYTES, 1 MB). `kept()` returns only:
  language     the page's or app's language ("fr", "en-GB"...), read by actions/language.py,
               when it is one the assistant speaks (French, English, Spanish);
  message_id   a client's or platform's id of the message, for matching logs and replies: an
               integer, or a string shaped like an id (digits, hexadecimal, separators `-_.:`,
               at most a 3-letter prefix such as `SM` or `msg`, at least one digit), so that
               nobody's name or address is stored there (issue 21: "Awa Diop" was);
each at most 64 characters, the whole at most MAX_METADATA_BYTES (256) as JSON. Everything else
(other keys, longer values, nested objects, values of other shapes) is dropped before Rasa sees
the message.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict

from actions.language import normalise_language

KEPT_KEYS = ("language", "message_id")
MAX_VALUE_CHARS = 64
MAX_METADATA_BYTES = 256
_MESSAGE_ID = re.compile(r"^[A-Za-z]{0,3}[0-9A-Fa-f_.:\-]{1,61}$")


def _id_shaped(value: Any) -> bool:
    if isinstance(value, int):
        return True
    return bool(_MESSAGE_ID.match(value)) and any(c.isdigit() for c in value)


_SHAPES = {"language": lambda value: normalise_language(value) is not None,
           "message_id": _id_shaped}


def kept(metadata: Any) -> Dict[str, Any]:
    if not isinstance(metadata, dict):
        return {}
    result: Dict[str, Any] = {}
    for key in KEPT_KEYS:
        value = metadata.get(key)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            continue
        if len(str(value)) <= MAX_VALUE_CHARS and _SHAPES[key](value):
            result[key] = value
    while result and len(json.dumps(result, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
        result.popitem()  # cannot happen with the limits above; kept as the cap's guarantee
    return result
