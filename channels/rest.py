"""The REST channel, hardened for the public: `/webhooks/rest/webhook` as in Rasa, but strict.

Rasa 3.6's RestInput answers a malformed body with a 500 or an empty list, lets a missing sender
share the conversation "default" with every other anonymous caller, and stores whatever type the
client sent. This subclass checks the request first and answers every problem with a 4xx and a
JSON body `{"error": "..."}` saying what is wrong:

- 415 unless the body is sent as `application/json`; 413 over IOM_MAX_BODY_BYTES (default 1 MB);
- 400 for a body that is not UTF-8 JSON, not a JSON object, without a `sender` string of 1 to
  255 printable characters, with a sender of the form of another channel's conversation ids
  (`wa-`, `tg-`, `web-` and 32 hex digits: REST never writes into a WhatsApp, Telegram or web
  chat conversation), without a `message` string, or with `metadata` that is not an object.
- the client's address (channels/client_address.py) goes to the guard for the per-address
  limits (throttle/).

Valid requests go through `channels.guard.guarded` like every channel (empty / too long / faults
answered politely); a message over a limit (throttle/: per sender, per address) gets 429 with `Retry-After`
and `{"error": ..., "retry_after": seconds}` (with `?stream=true` the stream has already begun:
the refusal comes as the guard's polite text, once per window). The reply format is Rasa's: a JSON list of bot messages; `?stream=true` streams
them as in Rasa. Registered in credentials.yml as `channels.rest.GuardedRestInput`, under the name
`rest`, so the URL stays `/webhooks/rest/webhook`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import math
import unicodedata
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

import throttle
from channels.guard import guarded
from privacy.pseudonym import is_pseudonym
from channels import client_address
from server import drain
from server.settings import MAX_BODY_BYTES

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 255  # the tracker store's sender_id column is VARCHAR(255)


class BadRequest(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


def _printable(text: str) -> bool:
    return all(unicodedata.category(c)[0] != "C" for c in text)


def parse_request(content_type: str, body: bytes) -> Tuple[str, str, Optional[Dict[str, Any]]]:
    """(sender, message, metadata) of a webhook call, or BadRequest saying what is wrong."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise BadRequest(415, "send the body as JSON with 'Content-Type: application/json'")
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(400, "the body is not valid UTF-8 JSON")
    if not isinstance(data, dict):
        raise BadRequest(400, 'the body must be a JSON object: {"sender": "...", "message": "..."}')
    sender = data.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest(400, "'sender' is required: a non-empty string identifying the conversation")
    if len(sender) > MAX_SENDER_CHARS or not _printable(sender):
        raise BadRequest(
            400, f"'sender' must be at most {MAX_SENDER_CHARS} printable characters"
        )
    if is_pseudonym(sender):
        raise BadRequest(
            400, "'sender' must not have the form of another channel's conversation ids "
                 "(wa-, tg-, web- and 32 hex digits)")
    message = data.get("message")
    if not isinstance(message, str):
        raise BadRequest(400, "'message' is required and must be a string")
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest(400, "'metadata' must be a JSON object")
    return sender, message, metadata


_TOO_MANY = {
    "sender": "too many messages from this sender",
    "address": "too many messages from this address",
    "conversations": "too many new conversations from this address",
}


# A client address over its limits is answered after a pause (at most this many seconds, and
# never more than the window's rest), so that a flood from one address, which waits for each
# answer, slows down by itself instead of keeping the server busy with refusals; at most
# MAX_HELD refusals wait at once (beyond, the answer goes at once). A sender over its own limit
# is answered at once.
REFUSAL_PAUSE = 1.0
MAX_HELD = 256
_held = 0


async def pause_before_refusing(refusal: "throttle.Refusal") -> None:
    global _held
    if refusal.reason == "sender" or _held >= MAX_HELD:
        return
    _held += 1
    try:
        await asyncio.sleep(min(REFUSAL_PAUSE, refusal.retry_after))
    finally:
        _held -= 1


def too_many(refusal: "throttle.Refusal") -> HTTPResponse:
    """429 for a message over a limit (throttle/): JSON error and Retry-After."""
    limit = refusal.limit or throttle.configured().sender
    seconds = max(1, math.ceil(refusal.retry_after))
    within = f" (at most {limit.count} in {limit.seconds:g} s)" if limit else ""
    return response.json(
        {"error": f"{_TOO_MANY.get(refusal.reason, _TOO_MANY['sender'])}{within}; this one "
                  f"was not processed, retry in {seconds} s",
         "retry_after": seconds},
        status=429, headers={"Retry-After": str(seconds)},
    )


class GuardedRestInput(RestInput):
    """Rasa's REST channel with request validation and the guard."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        handle = guarded(on_new_message)
        module = inspect.getmodule(self)
        webhook = Blueprint(
            f"custom_webhook_{type(self).__name__}", module.__name__ if module else None
        )

        # Stopping: serve what reached this server, refuse new connections (server/drain.py).
        drain.register(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            try:
                sender, text, metadata = parse_request(
                    request.headers.get("content-type", ""), request.body or b""
                )
            except BadRequest as bad:
                logger.info("Rejected a REST webhook call (%s): %s", bad.status, bad.error)
                return response.json({"error": bad.error}, status=bad.status)

            address = client_address.of_request(request)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(
                        functools.partial(handle, address=address), text, sender, self.name(),
                        metadata),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            result = await handle(
                UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata),
                address=address, say_refusal=False,  # answered below: 429
            )
            if isinstance(result, throttle.Refusal):  # over a limit: not processed
                await pause_before_refusing(result)
                return too_many(result)
            return response.json(collector.messages)

        return webhook
