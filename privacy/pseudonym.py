"""Keyed pseudonyms of the people who write through WhatsApp and Telegram (docs/privacy.md).

Rasa keeps each conversation under its sender id: in the tracker store (`events.sender_id`), in
its logs, in the throttle's Redis keys and in the review's inputs. For WhatsApp that id would be
the person's phone number (Twilio's `From`, `whatsapp:+33612345678`), for Telegram their chat id
(a stable account id). The channels (channels/whatsapp.py, channels/telegram.py) give Rasa this
module's pseudonym instead, and keep the real address in memory only, for the replies of the turn.

    pseudonym("whatsapp", "whatsapp:+33612345678") -> "wa-" + 32 hex digits
    pseudonym("telegram", 123456789)               -> "tg-" + 32 hex digits

The hex digits are HMAC-SHA256 (truncated to 128 bits) of the channel's name and the id written
one way (`canonical`), keyed by IOM_SENDER_KEY. Without that key, the channel's own secret is the
key: TWILIO_AUTH_TOKEN for WhatsApp, TELEGRAM_TOKEN for Telegram (the channel is off without it).
Every server of a deployment computes the same pseudonym from the same environment, so a person
keeps one conversation whichever server takes their message; without the key nobody can go back
from a pseudonym to the number, nor test guessed numbers against the stored ids.

`python -m privacy.pseudonym whatsapp:+33612345678` prints a person's conversation id (to read
their tracker through Rasa's HTTP API, for example); `make forget` uses `candidates`.

The web chat's conversations are kept under an id derived the same way, without a key, from a
secret the server gives the browser (channels/socketio.py): the browser keeps the secret (the
widget's `session_id` in localStorage) and proves with it that the conversation is its own; the
tracker store and the logs only ever see `web-` and 32 hex digits of its SHA-256, from which the
secret cannot be found (it has 256 random bits).

    web_conversation(token) -> "web-" + 32 hex digits
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import re
import secrets
import sys
from typing import Any, List, Optional, Tuple

KEY_ENV = "IOM_SENDER_KEY"
# channel -> (conversation id prefix, the channel's own secret: the key when IOM_SENDER_KEY is unset)
CHANNELS = {
    "whatsapp": ("wa-", "TWILIO_AUTH_TOKEN"),
    "telegram": ("tg-", "TELEGRAM_TOKEN"),
}
HEX_DIGITS = 32  # 128 bits of the HMAC: no two people share a conversation id
WEB_PREFIX = "web-"
_PSEUDONYM = re.compile(r"^(?:%s)[0-9a-f]{%d}$" % (
    "|".join([p for p, _ in CHANNELS.values()] + [WEB_PREFIX]), HEX_DIGITS))
# The web chat's secret: 32 random bytes, URL-safe base64 without padding (43 characters).
_WEB_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_PHONE_PUNCTUATION = re.compile(r"[\s\-.()/]")
_CHAT_ID = re.compile(r"^-?\d+$")


class PseudonymError(ValueError):
    """No key to compute a channel's pseudonyms with, or an id that is not one of the channel's."""


def _env(name: str) -> str:
    return (os.environ.get(name) or "").strip()


def canonical(channel: str, raw_id: Any) -> str:
    """The one way an id is written before hashing, so that each way of writing it gives the
    same pseudonym: WhatsApp `whatsapp:+33612345678`, `+33 6 12 34 56 78`, `0033612345678` ->
    `+33612345678`; Telegram 123456789, "123456789" -> "123456789"."""
    text = str(raw_id).strip()
    if channel == "whatsapp":
        if text.lower().startswith("whatsapp:"):
            text = text[len("whatsapp:"):]
        text = _PHONE_PUNCTUATION.sub("", text)
        if text.startswith("00"):
            text = text[2:]
        number = text.lstrip("+")
        if not number.isdigit():
            raise PseudonymError(f"not a WhatsApp number: {raw_id!r}")
        return "+" + number
    if channel == "telegram":
        if not _CHAT_ID.match(text):
            raise PseudonymError(f"not a Telegram chat id: {raw_id!r}")
        return str(int(text))
    raise PseudonymError(f"no pseudonyms for the channel {channel!r}")


def _channel(channel: str) -> Tuple[str, str]:
    try:
        return CHANNELS[channel]
    except KeyError:
        raise PseudonymError(f"no pseudonyms for the channel {channel!r}") from None


def keys(channel: str, channel_secret: Optional[str] = None) -> List[bytes]:
    """The keys a channel's pseudonyms may have been made with, the one in use first:
    IOM_SENDER_KEY, then the channel's own secret (`channel_secret`, else its variable)."""
    _, secret_env = _channel(channel)
    found: List[bytes] = []
    for value in (_env(KEY_ENV), (channel_secret or "").strip() or _env(secret_env)):
        if value and value.encode() not in found:
            found.append(value.encode())
    return found


def sender_key(channel: str, channel_secret: Optional[str] = None) -> bytes:
    """The key of a channel's pseudonyms; PseudonymError when there is none."""
    found = keys(channel, channel_secret)
    if not found:
        raise PseudonymError(
            f"no key for {channel} pseudonyms: set {KEY_ENV} (or {_channel(channel)[1]})"
        )
    return found[0]


def pseudonym(channel: str, raw_id: Any, key: Optional[bytes] = None) -> str:
    """The conversation id for the person `raw_id` of `channel` ("whatsapp" or "telegram"):
    a short prefix naming the channel and 32 hex digits of HMAC-SHA256 keyed by `key`
    (default: `sender_key(channel)`, from the environment)."""
    prefix, _ = _channel(channel)
    message = f"{channel}\n{canonical(channel, raw_id)}".encode()
    digest = hmac.new(key or sender_key(channel), message, hashlib.sha256).hexdigest()
    return prefix + digest[:HEX_DIGITS]


def new_web_token() -> str:
    """A new secret for a web chat session (the browser keeps it)."""
    return secrets.token_urlsafe(32)


def is_web_token(value: Any) -> bool:
    return isinstance(value, str) and bool(_WEB_TOKEN.match(value))


def web_conversation(token: str) -> str:
    """The conversation id of the web chat session whose secret is `token`."""
    digest = hashlib.sha256(f"web\n{token}".encode()).hexdigest()
    return WEB_PREFIX + digest[:HEX_DIGITS]


def is_pseudonym(sender_id: Any) -> bool:
    """A conversation id this module makes (WhatsApp, Telegram, web chat): no REST client may
    use one as its sender (channels/rest.py), so conversations of the channels stay apart."""
    return isinstance(sender_id, str) and bool(_PSEUDONYM.match(sender_id))


def channel_of(sender_id: str) -> Optional[str]:
    """Which messaging-platform id an operator typed: "whatsapp" for `whatsapp:+...`, `+...` or
    `00...` numbers, "telegram" for `telegram:<id>` or a bare (possibly negative) number, None for
    anything else (a REST sender, a web chat session id, a pseudonym)."""
    text = sender_id.strip()
    if text.lower().startswith("whatsapp:") or text.startswith(("+", "00")):
        try:
            canonical("whatsapp", text)
            return "whatsapp"
        except PseudonymError:
            return None
    if text.lower().startswith("telegram:"):
        text = text[len("telegram:"):].strip()
    return "telegram" if _CHAT_ID.match(text) else None


def candidates(sender_id: str) -> Tuple[Optional[str], List[str], List[str]]:
    """What `make forget SENDER=...` deletes: (channel, conversation ids, key variables missing).

    For a WhatsApp number or a Telegram chat id: its pseudonym under each key in the environment
    (IOM_SENDER_KEY and the channel's secret, in case the key was set after the first
    conversations), and the raw id as conversations from before pseudonyms were stored it
    (`whatsapp:+336...`, the chat id); the text as typed is always one of them, so a plain
    conversation id (REST, web chat, a pseudonym) works as before. When no key is set, the
    pseudonymous conversation cannot be found: the variables to set are returned."""
    typed = sender_id.strip()
    channel = channel_of(typed)
    ids = [typed]
    if channel is None:
        if is_web_token(typed):  # the web chat's session_id, from the browser's localStorage
            return "web chat", [web_conversation(typed), typed], []
        return None, ids, []
    bare = typed[len("telegram:"):].strip() if typed.lower().startswith("telegram:") else typed
    legacy = f"whatsapp:{canonical(channel, bare)}" if channel == "whatsapp" else canonical(channel, bare)
    ids.append(legacy)
    found = keys(channel)
    ids += [pseudonym(channel, bare, key) for key in found]
    missing = [] if found else [KEY_ENV, _channel(channel)[1]]
    return channel, list(dict.fromkeys(ids)), missing


def main(argv: Optional[List[str]] = None) -> int:
    parse = argparse.ArgumentParser(
        prog="python -m privacy.pseudonym",
        description="Print the conversation id under which a WhatsApp number or a Telegram chat "
        "id is stored (with the key of this environment: IOM_SENDER_KEY, else the channel's secret).",
    )
    parse.add_argument("sender", help="whatsapp:+33612345678, +33612345678, or a Telegram chat id")
    args = parse.parse_args(argv)
    channel = channel_of(args.sender)
    if channel is None:
        print(f"{args.sender!r} is neither a WhatsApp number (+...) nor a Telegram chat id", file=sys.stderr)
        return 2
    bare = args.sender.strip()
    if bare.lower().startswith("telegram:"):
        bare = bare[len("telegram:"):]
    try:
        print(pseudonym(channel, bare))
    except PseudonymError as error:
        print(f"pseudonym: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
