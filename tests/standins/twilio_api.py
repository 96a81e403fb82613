"""Stand-in of Twilio's REST API for messages (https://www.twilio.com/docs/messaging/api) on 127.0.0.1.

Requests: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth (account SID
and auth token), form-encoded `To`, `From`, `Body` / `MediaUrl`. Answers: 201 with a Message
resource, or Twilio's error JSON (`code`, `message`, `more_info`, `status`) for the checks done
here (authentication, account, recipient, sender, body present and at most 1600 characters).

The module also builds the form-encoded webhook request Twilio POSTs for an incoming WhatsApp
message, signed (X-Twilio-Signature) with twilio's own RequestValidator algorithm.
"""

from __future__ import annotations

import base64
import secrets
import time
from email.utils import formatdate
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

from aiohttp import web
from twilio.request_validator import RequestValidator

from tests.standins.base import Call, StandIn

SANDBOX_NUMBER = "whatsapp:+14155238886"


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message,
         "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
        status=status,
    )


class TwilioAPI(StandIn):
    def __init__(self, account_sid: str, auth_token: str, sender: str = SANDBOX_NUMBER) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        # To -> [status, code, message, how many more times (None: always)]
        self._refusals: Dict[str, list] = {}

    def refuse(self, to: str, status: int, code: int, message: str,
               times: Optional[int] = None) -> None:
        """Answer messages to `to` with this Twilio error (e.g. 400/21610 unsubscribed
        recipient, 429/20429 too many requests), every time or the next `times` times."""
        self._refusals[to] = [status, code, message, times]

    def refused_messages(self, to: Optional[str] = None) -> List[Dict[str, Any]]:
        return [
            c.params for c in self.snapshot("Messages")
            if c.status >= 400 and (to is None or c.params.get("To") == to)
        ]

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create_message)

    def sent_messages(self, to: Optional[str] = None) -> List[Dict[str, Any]]:
        return [
            c.params for c in self.snapshot("Messages")
            if c.status == 201 and (to is None or c.params.get("To") == to)
        ]

    def _authenticated(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.account_sid and password == self.auth_token

    async def _create_message(self, request: web.Request) -> web.Response:
        form = await request.post()
        params = {k: v for k, v in form.items()}
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}

        def refuse(status: int, code: int, message: str) -> web.Response:
            self.record(Call("Messages", params, status, headers))
            return _error(status, code, message)

        if not self._authenticated(request):
            return refuse(401, 20003, "Authenticate")
        sid = request.match_info["sid"]
        if sid != self.account_sid:
            return refuse(404, 20404, f"The requested resource /2010-04-01/Accounts/{sid}/Messages.json was not found")
        to, sender, body = params.get("To"), params.get("From"), params.get("Body", "")
        if not to:
            return refuse(400, 21604, "A 'To' phone number is required.")
        if sender != self.sender:
            return refuse(400, 21212, f"The 'From' number {sender} is not a valid phone number, shortcode, or alphanumeric sender ID.")
        if to.startswith("whatsapp:") != sender.startswith("whatsapp:"):
            return refuse(400, 21910, "Invalid From and To pair. From and To should be of the same channel")
        if not body and not params.get("MediaUrl"):
            return refuse(400, 21619, "A text message body or media urls must be specified.")
        if len(body) > 1600:
            return refuse(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        refusal = self._refusals.get(to)
        if refusal is not None and refusal[3] != 0:
            if refusal[3] is not None:
                refusal[3] -= 1
            response = refuse(*refusal[:3])
            if refusal[0] == 429:
                response.headers["Retry-After"] = "1"
            return response
        self.record(Call("Messages", params, 201, headers))
        message_sid = "SM" + secrets.token_hex(16)
        now = formatdate(time.time(), usegmt=True)
        return web.json_response(
            {
                "account_sid": self.account_sid, "api_version": "2010-04-01", "body": body,
                "date_created": now, "date_sent": None, "date_updated": now,
                "direction": "outbound-api", "error_code": None, "error_message": None,
                "from": sender, "messaging_service_sid": None, "num_media": "0",
                "num_segments": "1", "price": None, "price_unit": None, "sid": message_sid,
                "status": "queued", "subresource_uris": {
                    "media": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}/Media.json"},
                "to": to, "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
            },
            status=201,
        )


# --- what Twilio POSTs to the webhook for an incoming WhatsApp message -------------------


def incoming(
    account_sid: str,
    wa_id: str,
    body: str = "",
    media: Optional[Tuple[str, str]] = None,
    location: Optional[Tuple[float, float]] = None,
    to: str = SANDBOX_NUMBER,
    profile_name: str = "Amina",
) -> Dict[str, str]:
    """Form fields of an incoming WhatsApp message (media = (content type, file id))."""
    message_sid = "SM" + secrets.token_hex(16)
    fields = {
        "SmsMessageSid": message_sid, "NumMedia": "0", "ProfileName": profile_name,
        "MessageType": "text", "SmsSid": message_sid, "WaId": wa_id, "SmsStatus": "received",
        "Body": body, "To": to, "NumSegments": "1", "ReferralNumMedia": "0",
        "MessageSid": message_sid, "AccountSid": account_sid, "From": f"whatsapp:+{wa_id}",
        "ApiVersion": "2010-04-01",
    }
    if media:
        content_type, media_id = media
        fields.update({
            "NumMedia": "1", "MessageType": content_type.split("/")[0],
            "MediaContentType0": content_type,
            "MediaUrl0": f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages/"
                         f"{message_sid}/Media/{media_id}",
        })
    if location:
        fields.update({"MessageType": "location", "Latitude": str(location[0]),
                       "Longitude": str(location[1])})
    return fields


def signed_request(url: str, fields: Dict[str, str], auth_token: str) -> Tuple[bytes, Dict[str, str]]:
    """The body and headers of Twilio's webhook POST of `fields` to `url`."""
    signature = RequestValidator(auth_token).compute_signature(url, fields)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
        "X-Twilio-Signature": signature,
        "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        "User-Agent": "TwilioProxy/1.1",
    }
    return urlencode(fields).encode(), headers
