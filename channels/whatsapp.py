"""WhatsApp channel through Twilio, configured only from the environment.

Rasa 3.6's Twilio channel (rasa.core.channels.twilio) checks no signature, crashes on media-only
messages (its Body is empty) and sends with Twilio's blocking client inside the event loop. This
channel subclasses its input and replaces the rest:

* every webhook request must carry a valid `X-Twilio-Signature` (HMAC-SHA1 of the public webhook
  URL plus the sorted POST parameters, keyed by the auth token; checked with twilio's
  `RequestValidator`): missing -> 401, wrong -> 403, nothing processed or sent. Behind a reverse
  proxy the URL Twilio signed differs from the one the server sees, so TWILIO_WEBHOOK_URL gives it.
* messages with only media (photo, voice note, document...) or a location get a polite text reply;
  a caption sent with a picture is read as the question.
* replies are sent with the REST API (`POST /2010-04-01/Accounts/{sid}/Messages.json`) from an
  asynchronous aiohttp session. WhatsApp has no free-form buttons, so topic buttons become a
  numbered list: answering "2" sends the second button's payload.
* the sender's phone number (Twilio's `From`) never reaches Rasa: the conversation id is its keyed
  pseudonym (privacy/pseudonym.py, `wa-` + 32 hex digits), which is what the tracker store, the
  logs, the throttle and the numbered-choice memory see. The output channel made for one request
  holds the real address in memory, and sends that turn's replies to it, whatever id Rasa gives.

Environment (the channel is enabled when the first three are set):
  TWILIO_ACCOUNT_SID      AC... of the Twilio account
  TWILIO_AUTH_TOKEN       the account's auth token (signs webhooks, authenticates the REST API)
  TWILIO_WHATSAPP_NUMBER  the WhatsApp sender, e.g. whatsapp:+14155238886 (the sandbox number)
  TWILIO_WEBHOOK_URL      public URL Twilio calls (e.g. https://bot.example.org/webhooks/whatsapp/webhook);
                          default: the URL of the request as the server sees it
  TWILIO_API_BASE_URL     default https://api.twilio.com
  IOM_SENDER_KEY          key of the senders' pseudonyms (default: TWILIO_AUTH_TOKEN)
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import parse_qsl

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

import throttle
from actions.language import detect_language
from channels.guard import channel_text, guarded
from channels.messaging import env, split_text
from privacy.pseudonym import pseudonym, sender_key
from privacy.redact import redact
from server import drain

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.twilio.com"
SIGNATURE_HEADER = "X-Twilio-Signature"
# WhatsApp messages sent through Twilio: at most 1600 characters each.
MAX_TEXT = 1600
# Senders whose last numbered button list is remembered (per process).
REMEMBERED_SENDERS = 10000
# Longest wait before sending again a message Twilio refused as "too many requests".
RETRY_SECONDS = 5.0
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _seconds(header: Optional[Text]) -> float:
    try:
        return max(0.0, float(header)) if header else 1.0
    except ValueError:
        return 1.0


def whatsapp_address(number: Text) -> Text:
    """'+14155238886' or 'whatsapp:+14155238886' -> 'whatsapp:+14155238886'."""
    number = number.strip()
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


class FormParams:
    """POST parameters exactly as sent (blank values kept: Twilio signs them too)."""

    def __init__(self, body: bytes) -> None:
        self._values: Dict[Text, List[Text]] = {}
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            self._values.setdefault(key, []).append(value)

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def getall(self, key: Text) -> List[Text]:  # the interface RequestValidator looks for
        return self._values[key]

    def get(self, key: Text, default: Text = "") -> Text:
        values = self._values.get(key)
        return values[0] if values else default


class ButtonMemory:
    """The last numbered choices shown to each sender, so that "2" means the second button
    (kept under the sender's conversation id, the pseudonym, like everything else)."""

    def __init__(self, size: int = REMEMBERED_SENDERS) -> None:
        self.size = size
        self._choices: "OrderedDict[Text, List[Text]]" = OrderedDict()

    def remember(self, sender: Text, payloads: List[Text]) -> None:
        self._choices.pop(sender, None)
        self._choices[sender] = payloads
        while len(self._choices) > self.size:
            self._choices.popitem(last=False)

    def resolve(self, sender: Text, text: Text) -> Text:
        choices = self._choices.get(sender) or []
        stripped = text.strip().rstrip(".)")
        if stripped.isdigit() and 1 <= int(stripped) <= len(choices):
            return choices[int(stripped) - 1]
        return text


class SharedSession:
    """One aiohttp session for the channel, opened lazily inside the server's running loop and
    closed in that loop when the server stops. Outputs are created per message (the guard
    watches each turn's own output object) and all use this session."""

    def __init__(self, account_sid: Text, auth_token: Text) -> None:
        self._auth = aiohttp.BasicAuth(account_sid, auth_token)
        self._session: Optional[aiohttp.ClientSession] = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                auth=self._auth, timeout=aiohttp.ClientTimeout(total=30)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class WhatsAppOutput(OutputChannel):
    """Sends WhatsApp messages with Twilio's REST API (asynchronously).

    Made for one incoming message, it knows one person: `recipient`, their real address
    (`whatsapp:+336...`), kept in memory for this turn only, and `conversation_id`, the pseudonym
    Rasa knows them by. Rasa passes the conversation id as `recipient_id`; the messages go to
    `recipient`. An output made without a person (`get_output_channel()` from Rasa's HTTP API,
    for instance) has no address to send to: it sends nothing and logs why."""

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    def __init__(
        self,
        account_sid: Text,
        sender: Text,
        api_base_url: Text,
        memory: ButtonMemory,
        sessions: SharedSession,
        recipient: Optional[Text] = None,
        conversation_id: Optional[Text] = None,
    ) -> None:
        self.account_sid = account_sid
        self.recipient = recipient or None  # Twilio's `From`, as it came
        self.conversation_id = conversation_id
        self.sender = whatsapp_address(sender)
        self.api_base_url = api_base_url.rstrip("/")
        self.memory = memory
        self.sessions = sessions
        self.delivery_failures = 0  # sends Twilio refused (read by channels/guard.py)

    @property
    def session(self) -> aiohttp.ClientSession:
        return self.sessions.session

    def _address(self, recipient_id: Text) -> Optional[Text]:
        """The real address for Rasa's `recipient_id` (this turn's conversation id)."""
        if self.recipient and recipient_id in (self.conversation_id, self.recipient):
            return self.recipient
        logger.error(
            "No WhatsApp address for conversation %r: replies go only to the person who wrote "
            "in this request (the conversation id is a pseudonym); nothing sent.",
            redact(str(recipient_id)),
        )
        return None

    def _scrub(self, text: Any) -> Text:
        """Twilio's error text without the person's number (its messages quote the 'To')."""
        text = str(text)
        if self.recipient:
            number = self.recipient.split(":", 1)[-1]
            for form in (self.recipient, number, number.lstrip("+")):
                text = text.replace(form, self.conversation_id or "[phone]")
        return redact(text)

    async def _send(self, recipient_id: Text, fields: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
        to = self._address(recipient_id)
        if to is None:
            self.delivery_failures += 1
            return None
        return await self._create_message({"To": to, "From": self.sender, **fields})

    async def _create_message(self, fields: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
        """POSTs one message; None (and one more `delivery_failures`) if Twilio refused it.

        A refusal that says nothing was sent (429 Too Many Requests, 503, or no connection at
        all) is tried once more, after Retry-After (at most RETRY_SECONDS); any other refusal
        (invalid number, closed 24-hour window...) is final. The guard does not count a refused
        send as a reply: a turn with nothing delivered gets messages.unavailable."""
        url = f"{self.api_base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        for attempt in (1, 2):
            retry_after: Optional[float] = None
            try:
                async with self.session.post(url, data=fields) as reply:
                    body = await reply.json(content_type=None)
                    if reply.status < 300:
                        return body
                    logger.error(
                        "Twilio refused the message (HTTP %s, code %s): %s",
                        reply.status, (body or {}).get("code"),
                        self._scrub((body or {}).get("message")),
                    )
                    if reply.status in (429, 503):
                        retry_after = _seconds(reply.headers.get("Retry-After"))
            except aiohttp.ClientConnectorError as error:  # not connected: nothing was sent
                logger.error("Could not reach Twilio to send a WhatsApp message: %s",
                             self._scrub(repr(error)))
                retry_after = 1.0
            except (aiohttp.ClientError, ValueError, asyncio.TimeoutError) as error:
                logger.error("Sending a WhatsApp message through Twilio failed: %s",
                             self._scrub(repr(error)))
            if retry_after is None or attempt == 2:
                break
            await asyncio.sleep(min(retry_after, RETRY_SECONDS))
        self.delivery_failures += 1
        return None

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in split_text(text, MAX_TEXT):
            await self._send(recipient_id, {"Body": part})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        usable = [b for b in buttons if b.get("title") and b.get("payload")]
        if not usable:
            await self.send_text_message(recipient_id, text)
            return
        self.memory.remember(self.conversation_id or recipient_id, [b["payload"] for b in usable])
        # WhatsApp gives no language; the list's heading follows the reply's own language
        # (Lingua's light models: the Rasa server's memory budget, actions/language.py).
        lang = detect_language(text, light=True)
        lines = [f"{i}. {b['title']}" for i, b in enumerate(usable, start=1)]
        await self.send_text_message(
            recipient_id, f"{text}\n\n{channel_text('choose_number', lang)}\n" + "\n".join(lines)
        )

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, {"MediaUrl": image})

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        # The address is this turn's person's, whatever "To" or "From" the JSON gives.
        fields = {
            k: v for k, v in json_message.items()
            if isinstance(v, (str, int)) and k not in ("To", "From")
        }
        await self._send(recipient_id, fields)


class WhatsAppInput(TwilioInput):
    """WhatsApp (Twilio) input channel at /webhooks/whatsapp/webhook."""

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if credentials:
            logger.warning(
                "credentials.yml gives settings to the WhatsApp channel; they are ignored "
                "(it reads the TWILIO_* environment variables)."
            )
        return cls.from_environment()

    @classmethod
    def from_environment(cls) -> "WhatsAppInput":
        return cls(
            account_sid=env("TWILIO_ACCOUNT_SID") or None,
            auth_token=env("TWILIO_AUTH_TOKEN") or None,
            twilio_number=env("TWILIO_WHATSAPP_NUMBER") or None,
            webhook_url=env("TWILIO_WEBHOOK_URL") or None,
            api_base_url=env("TWILIO_API_BASE_URL") or DEFAULT_API_BASE_URL,
        )

    def __init__(
        self,
        account_sid: Optional[Text],
        auth_token: Optional[Text],
        twilio_number: Optional[Text],
        webhook_url: Optional[Text] = None,
        api_base_url: Text = DEFAULT_API_BASE_URL,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self.webhook_url = webhook_url
        self.api_base_url = api_base_url
        self.memory = ButtonMemory()
        self._sessions: Optional[SharedSession] = None
        missing = [
            name
            for name, value in (
                ("TWILIO_ACCOUNT_SID", account_sid),
                ("TWILIO_AUTH_TOKEN", auth_token),
                ("TWILIO_WHATSAPP_NUMBER", twilio_number),
            )
            if not value
        ]
        if len(missing) == 3:
            logger.info("TWILIO_* variables are not set: the WhatsApp channel is disabled.")
        elif missing:
            logger.error(
                "The WhatsApp channel is disabled: %s not set.", ", ".join(missing)
            )
        self.enabled = not missing
        self.validator = RequestValidator(auth_token) if auth_token else None
        # Same key on every server (IOM_SENDER_KEY, else the auth token): same pseudonyms.
        self.sender_key = sender_key("whatsapp", auth_token) if self.enabled else None

    def get_output_channel(
        self, recipient: Optional[Text] = None, conversation_id: Optional[Text] = None
    ) -> WhatsAppOutput:
        """An output for one turn, sending to `recipient` (the real address, in memory only),
        known to Rasa as `conversation_id`; every output shares the channel's HTTP session."""
        if not self.enabled:
            raise RuntimeError("The WhatsApp channel is disabled (TWILIO_* not set).")
        if self._sessions is None:
            self._sessions = SharedSession(self.account_sid, self.auth_token)
        return WhatsAppOutput(
            self.account_sid, self.twilio_number, self.api_base_url, self.memory, self._sessions,
            recipient=recipient, conversation_id=conversation_id,
        )

    def _signed_url(self, request: Request) -> Text:
        return self.webhook_url or request.url

    def _refusal(self, request: Request, params: FormParams) -> Optional[HTTPResponse]:
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            logger.warning("WhatsApp webhook refused: no %s header.", SIGNATURE_HEADER)
            return response.text("missing signature", status=401)
        if not self.validator.validate(self._signed_url(request), params, signature):
            logger.warning(
                "WhatsApp webhook refused: bad %s for %s (if the server is behind a proxy, "
                "set TWILIO_WEBHOOK_URL to the public URL).",
                SIGNATURE_HEADER, self._signed_url(request),
            )
            return response.text("invalid signature", status=403)
        if params.get("AccountSid") and params.get("AccountSid") != self.account_sid:
            return response.text("unknown account", status=403)
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        whatsapp_webhook = Blueprint("whatsapp_webhook", __name__)
        handle = guarded(on_new_message)

        # Stopping: serve what reached this server, refuse new connections (server/drain.py).
        drain.register(whatsapp_webhook)

        @whatsapp_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if not self.enabled:
                return response.json({"status": "disabled"}, 404)
            return response.json({"status": "ok"})

        @whatsapp_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.json({"error": "WhatsApp channel not configured"}, 404)
            params = FormParams(request.body or b"")
            refusal = self._refusal(request, params)
            if refusal is not None:
                return refusal
            try:
                await self._process(params, handle)
            except Exception:  # Twilio would retry or show an error: answer 200 regardless
                logger.exception("WhatsApp message %s could not be handled.", params.get("MessageSid"))
            return response.text(EMPTY_TWIML, content_type="text/xml")

        @whatsapp_webhook.listener("after_server_stop")
        async def close_session(*_: Any) -> None:
            if self._sessions is not None:
                await self._sessions.close()

        return whatsapp_webhook

    async def _process(
        self, params: FormParams, handle: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        address = params.get("From")
        if not address:
            return
        try:
            sender = pseudonym("whatsapp", address, self.sender_key)
        except ValueError:
            logger.warning("WhatsApp message %s from an unreadable address ignored.",
                           params.get("MessageSid"))
            return
        # From here on the person is `sender`, the pseudonym; `address` stays in `out` only.
        out = self.get_output_channel(recipient=address, conversation_id=sender)
        text = params.get("ButtonPayload") or params.get("Body")
        has_media = params.get("NumMedia", "0") not in ("", "0")
        is_location = bool(params.get("Latitude") and params.get("Longitude"))
        if not text.strip() and (has_media or is_location):
            # Not a message for Rasa, but it counts against the sender's limit all the same.
            if await throttle.refusal(UserMessage("", out, sender, input_channel=self.name())):
                return
            await out.send_text_message(sender, channel_text("text_only", None))
            return
        text = self.memory.resolve(sender, text)
        await handle(
            UserMessage(
                text,
                out,
                sender,
                input_channel=self.name(),
                metadata={},
            )
        )
