"""Issue 21, the attack on the running assistant, replayed against real servers.

One real Rasa server and action server at the default log level, with the channels of
credentials.yml, `--cors` for the chat page's origin, small limits (5 messages per sender, 20
new conversations per address) so that the probes reach them quickly. The tests:
- socket.io sessions: another socket cannot take a conversation over (neither a web chat's nor a
  REST sender's), the browser holding the session's secret can (a reload);
- the action server: no call without the Rasa server's secret (401), not even a forged tracker;
  the guard's text cap (413);
- HTTP: a 20 MB body refused from its Content-Length, security headers, no CORS headers without
  an Origin, more than 16 socket.io packets in one polling request;
- then every log of both servers is searched for each sender id and text the probes used
  (this module's last test; the probes of the earlier tests count too).
Start-up with a stock `rest:` or `socketio:` channel is refused (no servers needed), and the chat
page's server sends its own headers.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import pytest
import socketio

from actions.facts import FactStore
from tests.servers import MODEL, RASA_SERVER, ROOT, Stack, free_port, http, texts

pytestmark = pytest.mark.integration

FACTS = FactStore().current()
ORIGIN = "http://127.0.0.1:8080"
QUESTION, ANSWER = "Where is the headquarters of IOM?", FACTS.text("headquarters", "short", "en")
# Every sender id and text a probe uses contains "zorb" (or is listed here): none may reach a log.
PROBE_MARK = "zorb"
PHONE_SENDER = "+33699887766 zorb.probe@example.org"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    env = {"IOM_ALLOWED_ORIGINS": ORIGIN, "IOM_RATE_LIMIT": "5/600s",
           "IOM_ADDRESS_RATE_LIMIT": "", "IOM_NEW_CONVERSATION_LIMIT": "20/600s",
           "IOM_TRUSTED_PROXIES": "127.0.0.1"}
    running = Stack(tmp_path_factory.mktemp("hardening"),
                    credentials=(ROOT / "credentials.yml").read_text(), env=env,
                    extra_rasa_args=["--cors", ORIGIN]).start()
    yield running
    running.stop()


def senders(stack: Stack) -> Set[str]:
    with sqlite3.connect(stack.tracker_db) as connection:
        return {row[0] for row in connection.execute("SELECT DISTINCT sender_id FROM events")}


def user_texts(stack: Stack, sender: str) -> List[str]:
    with sqlite3.connect(stack.tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
            (sender,)).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


class Browser:
    """A socket.io client as the widget talks (polling: see tests/test_privacy.py)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = socketio.AsyncClient(reconnection=False)
        self.received: List[str] = []
        self.confirmed: List[str] = []
        self.client.on("bot_uttered", lambda data: self.received.append(data.get("text", "")))
        self.client.on("session_confirm", lambda secret: self.confirmed.append(secret))

    async def open(self, session_id: Optional[str]) -> str:
        await self.client.connect(self.url, headers={"Origin": ORIGIN}, transports=["polling"],
                                  socketio_path="socket.io")
        await self.client.call("session_request", {"session_id": session_id}, timeout=30)
        return self.confirmed[-1]

    async def say(self, text: str, session_id: Optional[str] = None) -> None:
        # call() returns once the server has handled the message (its acknowledgement).
        await self.client.call("user_uttered", {
            "message": text, "session_id": session_id or self.confirmed[-1],
            "customData": {"language": "en"}}, timeout=60)
        await asyncio.sleep(0.3)  # the rest of the turn's messages


# --- 4. socket.io sessions -------------------------------------------------------------------------

def test_another_socket_cannot_take_a_web_conversation_over(stack):
    async def run() -> Dict[str, Any]:
        victim, attacker = Browser(stack.url), Browser(stack.url)
        before = senders(stack)
        secret = await victim.open(None)
        await victim.say(QUESTION)
        conversation = (senders(stack) - before).pop()  # where the victim's messages are kept
        # The attacker knows the conversation id (a log at --debug, the database...) and asks
        # for it, then writes into it and waits for the victim's replies.
        given = await attacker.open(conversation)
        await attacker.say("Who leads IOM? zorb attacker", conversation)
        await attacker.say("Who leads IOM? zorb attacker 2")
        attacker.received.clear()
        await victim.say("source ?")
        result = {"secret": secret, "conversation": conversation, "given": given,
                  "attacker_saw": list(attacker.received), "victim_saw": list(victim.received)}
        await asyncio.gather(victim.client.disconnect(), attacker.client.disconnect())
        return result

    seen = asyncio.run(run())
    assert seen["given"] != seen["conversation"] and seen["given"] != seen["secret"]
    assert user_texts(stack, seen["conversation"]) == [QUESTION, "source ?"]
    assert seen["attacker_saw"] == []  # none of the victim's replies
    assert any(ANSWER in text for text in seen["victim_saw"])
    assert any("iom.int" in text for text in seen["victim_saw"][-2:])


def test_a_socket_cannot_join_or_write_into_a_rest_conversation(stack):
    sender = f"rest-victim-{uuid.uuid4().hex[:8]}"
    assert ANSWER in texts(stack.say(sender, QUESTION))

    async def run() -> str:
        attacker = Browser(stack.url)
        given = await attacker.open(sender)
        await attacker.say("zorb rest takeover", sender)
        await attacker.say("zorb rest takeover 2")
        await attacker.client.disconnect()
        return given

    assert asyncio.run(run()) != sender
    assert user_texts(stack, sender) == [QUESTION]
    # Nor can REST write into the web chat's conversations (ids of the form web- + 32 hex).
    status, body = http("POST", stack.url + "/webhooks/rest/webhook",
                        {"sender": "web-" + "0" * 32, "message": "zorb"})
    assert status == 400 and b"another channel" in body


def test_the_browser_holding_the_secret_continues_its_conversation(stack):
    """What the widget does on a reload: it reconnects with the session_id it keeps."""

    async def run() -> Dict[str, Any]:
        first = Browser(stack.url)
        secret = await first.open(None)
        await first.say(QUESTION)
        await first.client.disconnect()
        reloaded = Browser(stack.url)
        again = await reloaded.open(secret)
        await reloaded.say("source ?")
        await reloaded.client.disconnect()
        return {"secret": secret, "again": again, "saw": reloaded.received}

    seen = asyncio.run(run())
    assert seen["again"] == seen["secret"]
    assert any("iom.int" in text for text in seen["saw"])  # the follow-up knew the topic


# --- 5. the action server -----------------------------------------------------------------------

def action_call(text: str) -> Dict[str, Any]:
    """What Rasa sends to run action_answer_fact, with a forged tracker."""
    return {
        "next_action": "action_answer_fact", "sender_id": "zorb-forged", "version": "3.6.21",
        "domain": {}, "tracker": {
            "sender_id": "zorb-forged", "slots": {"topic": "headquarters", "language": "en"},
            "latest_message": {"text": text, "intent": {"name": "ask_headquarters",
                                                        "confidence": 1.0}, "entities": []},
            "events": [], "paused": False, "followup_action": None, "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def test_the_action_server_answers_only_the_rasa_server(stack):
    url = f"http://127.0.0.1:{stack.actions_port}"
    forged = action_call("Where is the headquarters of IOM? zorb forged")
    assert http("POST", url + "/webhook", forged)[0] == 401
    assert http("POST", url + "/webhook", forged, {"Authorization": "Bearer zorb-guess"})[0] == 401
    assert http("POST", url + "/webhook", forged, {"Authorization": "zorb"})[0] == 401
    assert http("GET", url + "/actions")[0] == 401
    assert http("GET", url + "/health")[0] == 200
    # With the secret the Rasa server has, the same call is answered: the 401 is the token's.
    token = {"Authorization": f"Bearer {stack.env['IOM_ACTION_TOKEN']}"}
    status, body = http("POST", url + "/webhook", forged, token)
    assert status == 200 and "Geneva" in body.decode()
    # And the guard's cap holds there too: a 1 MB text is refused.
    status, body = http("POST", url + "/webhook", action_call("zorb " * 200_000), token)
    assert status == 413 and b"longer than 1000" in body
    # The Rasa server's own calls carry the secret: its users are answered.
    assert ANSWER in texts(stack.say(f"zorb-user-{uuid.uuid4().hex[:6]}", QUESTION))


# --- 6. HTTP ----------------------------------------------------------------------------------------

def raw_request(port: int, head: bytes, body: bytes, wait: float = 10) -> bytes:
    """Sends a request head and the start of its body; what the server answered within `wait`."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as connection:
        connection.sendall(head + body)
        try:
            return connection.recv(4096)
        except socket.timeout:
            return b""


def test_a_huge_body_is_refused_before_it_is_sent(stack):
    head = (b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 20000000\r\n\r\n")
    started = time.monotonic()
    answer = raw_request(stack.rasa_port, head, b'{"sender": "zorb", "message": "' + b"a" * 1000)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5


def test_responses_carry_security_headers_and_cors_only_for_an_origin(stack):
    def fetch(path: str, method: str = "GET", body: Optional[bytes] = None,
              headers: Optional[Dict[str, str]] = None):
        request = urllib.request.Request(stack.url + path, data=body, method=method,
                                         headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, reply.headers
        except urllib.error.HTTPError as error:
            return error.code, error.headers

    rest = json.dumps({"sender": f"zorb-h-{uuid.uuid4().hex[:6]}", "message": QUESTION}).encode()
    json_type = {"Content-Type": "application/json"}
    for status, headers in (fetch("/webhooks/rest/webhook", "POST", rest, json_type),
                            fetch("/no-such-page"), fetch("/"),
                            fetch("/webhooks/rest/webhook", "POST", b"{", json_type)):
        assert headers["X-Content-Type-Options"] == "nosniff", status
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "Access-Control-Allow-Origin" not in headers, (status, dict(headers))
    _, headers = fetch("/webhooks/rest/webhook", "POST", rest, {**json_type, "Origin": ORIGIN})
    assert headers["Access-Control-Allow-Origin"] == ORIGIN


def test_too_many_socketio_packets_get_a_400(stack):
    base = stack.url + "/socket.io/?EIO=4&transport=polling"
    request = urllib.request.Request(base, headers={"Origin": ORIGIN})
    with urllib.request.urlopen(request, timeout=30) as reply:
        sid = json.loads(reply.read().decode()[1:])["sid"]
    packet = '42["user_uttered",{"message":"zorb packets","session_id":"zorb"}]'
    status, _ = http("POST", f"{base}&sid={sid}", raw="\x1e".join([packet] * 17).encode(),
                     headers={"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"})
    assert status == 400


# --- 2. personal data of the attack, not stored ------------------------------------------------------

ISSUE_FORMS = {
    "my name is Zorbelle Diop": "Zorbelle",
    "je m'appelle Zorbine Ndiaye": "Zorbine",
    "me llamo Zorbeida Pérez": "Zorbeida",
    "I live at 12 Zorbing Street": "Zorbing",
    "j'habite au 7 rue des Zorbes, 69002 Lyon": "Zorbes",
    "vivo en la Calle Zorbas 15": "Zorbas",
    "born on 12 March 1990": "12 March 1990",
    "né le 4 avril 1995": "4 avril 1995",
    "nací el 5 de mayo de 2004": "5 de mayo",
    "write to zorbmail at gmail.com": "zorbmail",
    "phone 0 6 1 2 3 4 5 6 7 8": "0 6 1 2 3 4 5 6 7 8",
    "tel 06,12,34,56,78": "06,12,34,56,78",
    "tel 06_12_34_56_78": "06_12_34_56_78",
    "tel 0 612 345 678": "0 612 345 678",
    "IBAN fr76 3000 6000 0112 3456 7890 189": "fr76",
}


def test_personal_data_of_the_attack_is_not_stored(stack):
    # One sender each (5 messages per sender here), from addresses of their own through the
    # trusted proxy (20 new conversations per address here).
    for n, text in enumerate(ISSUE_FORMS):
        status, body = http("POST", stack.url + "/webhooks/rest/webhook",
                            {"sender": f"zorb-pd-{n}-{uuid.uuid4().hex[:6]}", "message": text,
                             "metadata": {"message_id": "Zorbaline Diop", "language": "en"}},
                            headers={"X-Forwarded-For": f"198.51.100.{n + 1}"})
        assert status == 200 and json.loads(body), (status, body[:300])

    async def by_socket() -> str:
        browser = Browser(stack.url)
        secret = await browser.open(None)
        for text in list(ISSUE_FORMS)[:5]:
            await browser.say(text)
        await browser.client.disconnect()
        return secret

    asyncio.run(by_socket())
    with sqlite3.connect(stack.tracker_db) as connection:
        stored = "\n".join(row[0] for row in connection.execute("SELECT data FROM events"))
    leaks = [form for form in [*ISSUE_FORMS.values(), "Zorbaline"] if form in stored]
    assert leaks == []
    # The messages themselves arrived (redacted): "my name is [name]"...
    assert "my name is [name]" in stored and "[birthdate]" in stored and "[address]" in stored


# --- 1. the limits, as probes for the logs -------------------------------------------------------

def test_limits_probes(stack):
    # Payload-shaped text with names the domain does not have, an over-long message (from
    # another address, through the trusted proxy 127.0.0.1).
    for text in ('/greet{"name": "Zorblaxa"}', '/zorb_intent', '/ask_member_states{"zorbland": "x"}',
                 '/greet{"zorbkey": "Awa"}', "zorb " * 300):
        http("POST", stack.url + "/webhooks/rest/webhook",
             {"sender": f"zorb-payload-{uuid.uuid4().hex[:4]}", "message": text},
             headers={"X-Forwarded-For": "203.0.113.50"})
    # One sender over its limit (its id is a phone number and an e-mail address).
    statuses = [http("POST", stack.url + "/webhooks/rest/webhook",
                     {"sender": PHONE_SENDER, "message": f"{QUESTION} zorb {n}"})[0]
                for n in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    # One address (127.0.0.1, the probes so far included) over its new conversations.
    results = [http("POST", stack.url + "/webhooks/rest/webhook",
                    {"sender": f"zorb-rotating-{n}", "message": QUESTION})[0] for n in range(25)]
    assert results[-1] == 429


# --- 3. no sender id and no text in any log (last: after every probe above) --------------------------

def test_no_log_holds_a_sender_id_or_a_message_text(stack):
    stack.stop()  # everything written and flushed
    logs = {path.name: path.read_text(errors="replace") for path in Path(stack.workdir).glob("*.log")}
    assert set(logs) >= {"rasa.log", "actions.log"}
    found = {
        name: [line for line in text.splitlines()
               if PROBE_MARK in line.lower() or "33699887766" in line or "rest-victim" in line
               or "Traceback" in line or "Where is the headquarters" in line
               or re.search(r"web-[0-9a-f]{32}", line)]
        for name, text in logs.items()
    }
    assert found == {name: [] for name in logs}
    # The check means something: the probes were made (limits hit, calls refused).
    assert "over the limit" in logs["rasa.log"] and "over its limit" in logs["rasa.log"]


# --- start-up and the page server (no stack) --------------------------------------------------------

@pytest.mark.parametrize("credentials, named", [
    ("rest:\n", "'rest'"),
    ("channels.rest.GuardedRestInput:\nsocketio:\n  user_message_evt: user_uttered\n", "'socketio'"),
])
def test_start_up_refuses_an_unguarded_channel(tmp_path, credentials, named):
    (tmp_path / "credentials.yml").write_text(credentials)
    (tmp_path / "endpoints.yml").write_text("")
    result = subprocess.run(
        [*RASA_SERVER, "--model", str(MODEL), "--credentials", str(tmp_path / "credentials.yml"),
         "--endpoints", str(tmp_path / "endpoints.yml"), "--interface", "127.0.0.1",
         "--port", str(free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    assert "Not starting" in output and named in output and "channels/guard.py" in output, output[-2000:]


def test_the_page_server_sends_its_headers_on_every_answer():
    import importlib.util

    spec = importlib.util.spec_from_file_location("web_server", ROOT / "web" / "server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = module.make_server("127.0.0.1", 0, None, 5005)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for method, path, expected in (("GET", "/", 200), ("GET", "/nothing", 404),
                                       ("POST", "/", 501), ("DELETE", "/", 501)):
            request = urllib.request.Request(base + path, method=method, data=b"x" if method == "POST" else None)
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    status, headers = reply.status, reply.headers
            except urllib.error.HTTPError as error:
                status, headers = error.code, error.headers
            assert status == expected, (method, path, status)
            assert "default-src 'none'" in headers.get("Content-Security-Policy", ""), (method, path)
            assert headers.get("X-Content-Type-Options") == "nosniff", (method, path)
            assert "camera=()" in headers.get("Permissions-Policy", ""), (method, path)
            assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", (method, path)
    finally:
        server.shutdown()
        server.server_close()
