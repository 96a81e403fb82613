"""The one gate every channel's user messages pass through before reaching Rasa.

`guarded(on_new_message)` wraps the callback Rasa gives each channel's blueprint. It answers
empty and over-long messages itself, politely and in the user's language, and makes sure the user
gets a reply even when the back end fails:

- text is cleaned first: control characters, lone surrogates (from invalid UTF-8 or JSON such as
  "\\ud800") and other non-printing characters are dropped, newlines and tabs become spaces;
- nothing left -> messages.empty; more than IOM_MAX_MESSAGE_CHARS characters (default 1000)
  -> messages.too_long; neither reaches NLU, so a 100 KB message costs nothing;
- a typed "/intent{...}" is only let through as a button payload when it looks like one (known
  shape, an intent and entities of domain.yml, plain entity values); anything else loses its
  leading slash and is read as text, so a user cannot inject entity values (for instance markup)
  into the answers, nor have Rasa quote unknown names into its log;
- every turn must produce a reply. Rasa 3.6 swallows a failing custom action (the action server
  down, erroring or too slow: `MessageProcessor._run_action` logs "Encountered an exception while
  running action" and carries on without the action's events), so the bot would say nothing. The
  guard watches the output channel; a turn that delivered nothing (a channel may report a
  refused delivery: WhatsApp when Twilio refuses), or that raised, gets
  messages.unavailable in the user's language. Nothing is kept about the failure: the next
  message tries the action server again, so normal answers resume by themselves.
- personal data (e-mail addresses, phone, card, IBAN and ID numbers) in the text and the
  metadata is replaced by [email], [phone], [number] before Rasa sees the message;
- message metadata is cut down to what the assistant uses (channels/metadata.py: `language`,
  `message_id`, 256 bytes at most), since it is stored with every message;
- a sender over the per-sender limit (IOM_RATE_LIMIT, throttle/), or a message from a client
  address over the per-address limits (REST and socket.io: messages, new conversations), is
  neither processed nor stored: told messages.slow_down once, then nothing (the REST channel
  answers 429);
- the action server call times out after IOM_ACTION_TIMEOUT seconds (default 5; Rasa's own
  default is 300; set by server.install(), not with IOM_PERF_PATCHES=0), so a hung action server
  costs the user seconds, not minutes.
- what passes through it is counted for the Rasa server's metrics by channels/observed.py, which
  wraps it (messages, reply time, throttled, redactions; docs/operating.md, "Monitoring").
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
import re
import unicodedata
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

import yaml

from rasa.core.channels.channel import UserMessage

import throttle
from actions.facts import FactsError, FactStore
from actions.language import SUPPORTED, conversation_fallback, detect_language
from channels.metadata import kept as kept_metadata
from channels.observed import observed
from privacy.redact import redact_message
from server import channel_check
from server.settings import MAX_MESSAGE_CHARS

logger = logging.getLogger(__name__)


# The Rasa server reads the same facts file as the action server for these few replies.
FACT_STORE = FactStore()

# Used only if the facts file never loaded at all (the Rasa server still has to say something).
_LAST_RESORT = {
    "fr": "Désolé, le service est momentanément indisponible. Réessayez dans un instant.",
    "en": "Sorry, the service is temporarily unavailable. Please try again in a moment.",
    "es": "Lo sentimos, el servicio no está disponible en este momento. Vuelva a intentarlo en un instante.",
}

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
Guarded = Callable[..., Awaitable[Any]]

DOMAIN_FILE = Path(__file__).resolve().parent.parent / "domain.yml"
# What a button payload looks like: /intent or /intent{"entity":"plain value"}.
_PAYLOAD = re.compile(r"^/([a-z][a-z0-9_]{0,63})(\{.{0,500}\})?$", re.DOTALL)
_PLAIN_VALUE = re.compile(r"^[\w .'\-]{1,64}$")
# Rasa's built-in intents change the conversation itself; users typing them get plain text.
_RESERVED_INTENTS = {"restart", "session_start", "back"}


def clean_text(text: Any) -> str:
    """Text without control or other non-printing characters (newlines and tabs become spaces)."""
    if not isinstance(text, str):
        return ""
    return "".join(
        " " if c in "\t\r\n" else c
        for c in text
        if c in "\t\r\n" or unicodedata.category(c)[0] != "C"
    ).strip()


@functools.lru_cache(maxsize=1)
def _domain_names() -> Tuple[frozenset, frozenset]:
    """The intents and entities of domain.yml (what the model was trained with): a payload with
    other names is read as text. Rasa would warn about unknown names, quoting them (user text)
    into its log at the default level."""
    try:
        with open(DOMAIN_FILE, encoding="utf-8") as file:
            domain = yaml.safe_load(file) or {}
    except (OSError, yaml.YAMLError):
        logger.exception("Cannot read %s: payloads are read as text", DOMAIN_FILE)
        return frozenset(), frozenset()
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []]
    entities = [e if isinstance(e, str) else next(iter(e)) for e in domain.get("entities") or []]
    return frozenset(intents), frozenset(entities)


def safe_payload(text: str) -> str:
    """`text` if it is a well-formed button payload (an intent and entities of the domain, plain
    values) or plain text, else the text without its '/'."""
    if not text.startswith("/"):
        return text
    match = _PAYLOAD.match(text)
    intents, known_entities = _domain_names()
    if match and match.group(1) not in _RESERVED_INTENTS and match.group(1) in intents:
        entities = match.group(2)
        if entities is None:
            return text
        try:
            values = json.loads(entities)
        except ValueError:
            values = None
        if isinstance(values, dict) and all(
            isinstance(k, str) and k in known_entities
            and isinstance(v, str) and _PLAIN_VALUE.match(v)
            for k, v in values.items()
        ):
            return text
    logger.info("Typed text looks like an intent payload but is not one; reading it as text")
    return text.lstrip("/").strip()


async def conversation_slots(sender_id: Any) -> Dict[str, Any]:
    """The conversation's `language` and `channel_language` slots, read from the Rasa server's
    tracker store (empty when there is no conversation yet, or no server, as in unit tests). Only
    read when the server itself must answer (a notice), never on the normal path."""
    try:
        from sanic import Sanic

        store = Sanic.get_app().ctx.agent.tracker_store
        tracker = await store.retrieve(sender_id)
    except Exception:  # no app, no agent, a store that fails: the page's language will do
        return {}
    if tracker is None:
        return {}
    return {name: tracker.get_slot(name) for name in ("language", "channel_language")}


def reply_language(message: UserMessage, slots: Optional[Dict[str, Any]] = None) -> str:
    """The language of a notice: the text's when it tells, else the conversation's, else the
    page's or platform's (message metadata), as the action server decides for answers."""
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    text = message.text if isinstance(message.text, str) else ""
    slots = slots or {}
    fallback = conversation_fallback(slots.get("language"), slots.get("channel_language"), metadata.get("language"))
    # Lingua's light models: the Rasa server stays within its memory budget (actions/language.py).
    return detect_language(text, fallback, light=True)


def channel_text(key: str, lang: Optional[str], **values: Any) -> str:
    """messages.<key> in `lang`, or in every language (French, English, Spanish) when the channel
    gives no language (WhatsApp) and there is no text to tell it from (a photo)."""
    try:
        facts = FACT_STORE.current()
        if lang in SUPPORTED:
            return facts.message(key, lang, **values)
        return "\n\n".join(facts.message(key, code, **values) for code in SUPPORTED)
    except (FactsError, KeyError, IndexError, ValueError):
        logger.exception("No usable messages.%s in the facts file", key)
        return _LAST_RESORT[lang if lang in _LAST_RESORT else "fr"]


async def _say(message: UserMessage, key: str, **values: Any) -> None:
    # A throttled sender costs no tracker read (the point of throttling); other notices read the
    # conversation's language for text that cannot tell its own (empty, an emoji, "ok").
    slots = {} if key == "slow_down" else await conversation_slots(message.sender_id)
    lang = reply_language(message, slots)
    text = channel_text(key, lang, **values)
    # The web page marks the bubble with its language (channels/socketio.py); others ignore it.
    await message.output_channel.send_text_message(message.sender_id, text, language=lang)


class _ReplyWatch:
    """Counts what the bot sends on one turn, by wrapping the output channel's send_response.

    Every bot message of Rasa 3.6 (responses, custom action messages) goes through
    `OutputChannel.send_response`; patching the instance keeps the channel's own type, which
    Rasa and the channels check.
    """

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.sent = 0
        self._had_own = "send_response" in vars(channel)
        self._original = channel.send_response

        async def send_response(recipient_id: Optional[str], message: Dict[str, Any]) -> None:
            # A channel that can tell counts refused deliveries in `delivery_failures`
            # (WhatsApp: Twilio refused): such a send does not count as a reply.
            failures = getattr(channel, "delivery_failures", 0)
            await self._original(recipient_id, message)
            if getattr(channel, "delivery_failures", 0) == failures:
                self.sent += 1

        channel.send_response = send_response

    def close(self) -> None:
        if self._had_own:
            self.channel.send_response = self._original
        else:
            del self.channel.send_response


def guarded(on_new_message: OnNewMessage) -> Guarded:
    """The gate around the callback Rasa gives a channel's blueprint. Call it from `blueprint()`:
    the start-up refuses a channel whose blueprint does not (server/channel_check.py).

    The returned `handle(message, address=None, say_refusal=True)` takes the client `address`
    from channels that have one (REST, socket.io: channels/client_address.py) for the
    per-address limits; `say_refusal=False` when the channel answers a refusal itself (REST's
    429), so that refusing costs no language detection."""
    channel_check.guarded(on_new_message)

    async def handle(message: UserMessage, address: Optional[str] = None,
                     say_refusal: bool = True) -> Optional[Any]:
        # channels/observed.py counts the refusal (iom_throttled_total); `refusal.reason` says
        # which limit: "sender", "address" or "conversations".
        refusal = await throttle.refusal(message, address)
        if refusal is not None:
            if refusal.first and say_refusal:
                message.text = message.text[:500] if isinstance(message.text, str) else ""
                await _say(message, "slow_down", seconds=math.ceil(refusal.retry_after))
            return refusal
        message.metadata = kept_metadata(message.metadata)  # stored with the message: keep little
        text = clean_text(message.text)
        if not text:
            await _say(message, "empty")
            return None
        if len(text) > MAX_MESSAGE_CHARS:
            message.text = text[:500]  # enough to tell the language
            await _say(message, "too_long", limit=MAX_MESSAGE_CHARS)
            return None
        message.text = safe_payload(text)
        if not message.text:
            await _say(message, "empty")
            return None
        # Phone numbers, e-mail addresses, ID numbers... out, before NLU, the tracker store, the
        # event broker or any log sees the message (privacy/redact.py, docs/privacy.md).
        redact_message(message)

        watch = _ReplyWatch(message.output_channel)
        result = None
        try:
            result = await on_new_message(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            # No sender id and no text in the log (docs/privacy.md).
            logger.exception("Handling a %s message failed", message.input_channel)
        finally:
            watch.close()
        if watch.sent == 0:
            # The usual cause: the action server is down, failing or too slow (Rasa logged it).
            logger.warning(
                "No reply to a %s message (action server down or failing?): sent "
                "messages.unavailable", message.input_channel,
            )
            try:
                await _say(message, "unavailable")
            except Exception:
                logger.exception("Could not even send messages.unavailable (%s)", message.input_channel)
        return result

    return observed(handle, reply_language)
