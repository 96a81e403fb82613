"""Starts the real action server and Rasa server for integration tests (no mocks).

Each `Stack` runs `rasa run actions` and `rasa run` from the project's venv on free ports of
127.0.0.1, with its own SQLite tracker store in a temporary folder, the HTTP API enabled behind a
random token (to read trackers), and logs in that folder. Other test modules build on it: pass
`credentials` (YAML text) for more channels, `env` for channel secrets, `endpoints` to replace
the endpoints file.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from tests.processes import free_port, free_port_pair, stop_process, wait_http

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "iom.tar.gz"
# The contract's command for the Rasa server (../shared/contract.md; perf/rasa_cli.py runs
# server/rasa_cli.py, as `make run` does: Rasa's CLI after the checked start-up).
RASA_SERVER = [str(BIN / "python"), "-m", "perf.rasa_cli", "run"]
START_TIMEOUT = 180


def http(
    method: str,
    url: str,
    body: Any = None,
    headers: Optional[Dict[str, str]] = None,
    timeout: float = 30,
    raw: Optional[bytes] = None,
) -> tuple[int, bytes]:
    """A plain HTTP request; returns (status, body) for 2xx and error statuses alike."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None and raw is None:
        request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Stack:
    def __init__(
        self,
        workdir: Path,
        credentials: str = "channels.rest.GuardedRestInput:\n",
        env: Optional[Dict[str, str]] = None,
        endpoints: Optional[str] = None,
        facts_file: Optional[Path] = None,
        extra_rasa_args: Optional[List[str]] = None,
        extra_actions_args: Optional[List[str]] = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rasa_port = free_port()
        self.actions_port = free_port()
        # Metrics (docs/operating.md, "Monitoring"): the Rasa server's on this port, the action
        # server's on the next one; never the defaults (9102, 9103), which a developer's `make run`
        # may hold.
        self.metrics_port = free_port_pair()
        self.token = secrets.token_hex(16)
        self.tracker_db = self.workdir / "tracker.db"
        self.credentials = credentials
        self.endpoints = endpoints
        self.extra_rasa_args = extra_rasa_args or []
        self.extra_actions_args = extra_actions_args or []
        # SANIC_HOST: rasa-sdk binds the action server to 0.0.0.0 without it. The per-address
        # limits (throttle/) are off unless a test sets them: a test module talks as dozens of
        # people from one address (127.0.0.1). The action server's secret is this stack's own.
        self.env = {
            **os.environ, "RASA_TELEMETRY_ENABLED": "false", "SANIC_HOST": "127.0.0.1",
            "IOM_ADDRESS_RATE_LIMIT": "off", "IOM_NEW_CONVERSATION_LIMIT": "off",
            "IOM_ACTION_TOKEN": secrets.token_urlsafe(32),
            "IOM_METRICS_PORT": str(self.metrics_port), **(env or {})
        }
        if facts_file:
            self.env["IOM_FACTS_FILE"] = str(facts_file)
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _spawn(self, args: List[str], log_name: str) -> subprocess.Popen:
        log = open(self.workdir / log_name, "ab")
        return subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_actions(self) -> None:
        self.actions = self._spawn(
            [str(BIN / "rasa"), "run", "actions", "--port", str(self.actions_port),
             *self.extra_actions_args],
            "actions.log",
        )
        wait_http(f"http://127.0.0.1:{self.actions_port}/health", self.actions,
                  self.workdir / "actions.log", START_TIMEOUT)

    def start_rasa(self) -> None:
        endpoints = self.endpoints or (
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_port}/webhook"\n'
            "  read_only_actions: [action_answer_fact]\n"
            # Same tracker store as endpoints.yml (server/tracker_store.py), on a temp SQLite file.
            f"tracker_store:\n  type: server.tracker_store.WindowedSQLTrackerStore\n"
            f"  dialect: sqlite\n  db: {self.tracker_db}\n"
        )
        (self.workdir / "endpoints.yml").write_text(endpoints)
        (self.workdir / "credentials.yml").write_text(self.credentials)
        self.rasa = self._spawn(
            [
                *RASA_SERVER, "--model", str(MODEL),
                "--endpoints", str(self.workdir / "endpoints.yml"),
                "--credentials", str(self.workdir / "credentials.yml"),
                "--interface", "127.0.0.1", "--port", str(self.rasa_port),
                "--enable-api", "--auth-token", self.token, *self.extra_rasa_args,
            ],
            "rasa.log",
        )
        wait_http(self.url + "/", self.rasa, self.workdir / "rasa.log", START_TIMEOUT)

    def start(self) -> "Stack":
        self.start_actions()
        self.start_rasa()
        return self

    def stop_actions(self) -> None:
        stop_process(self.actions)

    def stop_rasa(self) -> None:
        stop_process(self.rasa)

    def stop(self) -> None:
        self.stop_rasa()
        self.stop_actions()

    # --- talking to it -------------------------------------------------------------------

    def say(self, sender: str, text: str, metadata: Optional[Dict] = None) -> List[Dict]:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        status, raw = http("POST", self.url + "/webhooks/rest/webhook", body)
        assert status == 200, (status, raw[:500])
        return json.loads(raw)

    def tracker(self, sender: str) -> Dict:
        status, raw = http(
            "GET", f"{self.url}/conversations/{sender}/tracker?token={self.token}"
        )
        assert status == 200, (status, raw[:500])
        return json.loads(raw)

    def slot(self, sender: str, name: str) -> Any:
        return self.tracker(sender)["slots"].get(name)


def web_conversation_id(session_secret: str) -> str:
    """Where the web chat keeps a session's conversation: `web-` and 32 hex digits of the SHA-256
    of "web\n" + the secret the server confirmed (docs/privacy.md), written out here."""
    return "web-" + hashlib.sha256(f"web\n{session_secret}".encode()).hexdigest()[:32]


def texts(replies: List[Dict]) -> str:
    """All reply texts of one turn, joined."""
    return "\n".join(r.get("text", "") for r in replies)


async def socketio_session(url: str, origin: str, session_id: Optional[str], messages: List[str],
                           custom_data: Dict[str, Any]) -> Tuple[str, List[Dict]]:
    """The web chat's socket.io channel as the widget uses it (python-socketio's client): a
    session (`session_id`: a secret the server gave before, to continue that conversation, or
    None), then each message with `custom_data` as the widget's metadata. Returns the session's
    secret as the server confirmed it (the conversation is `web_conversation_id` of it) and
    every bot message."""
    import asyncio

    import socketio

    client = socketio.AsyncClient()
    replies: List[Dict] = []
    secrets_confirmed: List[str] = []
    confirmed = asyncio.Event()
    arrived = asyncio.Event()

    @client.on("session_confirm")
    async def on_confirm(secret):
        secrets_confirmed.append(secret)
        confirmed.set()

    @client.on("bot_uttered")
    async def on_bot(data):
        replies.append(data)
        arrived.set()

    # Long-polling: python-engineio's websocket client needs a newer aiohttp than Rasa 3.6 pins;
    # the browser test (tests/test_web_widget.py) covers the websocket transport.
    await client.connect(url, headers={"Origin": origin}, socketio_path="/socket.io",
                         transports=["polling"])
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), 30)
        secret = secrets_confirmed[0]
        for message in messages:
            arrived.clear()
            await client.emit("user_uttered", {
                "message": message, "session_id": secret, "customData": custom_data,
            })
            await asyncio.wait_for(arrived.wait(), 60)
            await asyncio.sleep(0.5)  # the rest of this turn's messages
    finally:
        await client.disconnect()
    return secret, replies


async def socketio_conversation(url: str, origin: str, session_id: Optional[str],
                                messages: List[str], custom_data: Dict[str, Any]) -> List[Dict]:
    """`socketio_session`'s bot messages only."""
    return (await socketio_session(url, origin, session_id, messages, custom_data))[1]
