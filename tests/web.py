"""What the tests of the chat page share: Chromium, the page server, and reading the conversation.

The page server is the real one (web/server.py); the browser is Debian's Chromium driven by the
project's pinned Playwright (tests/test_web_widget.py, tests/test_web_accessibility.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import List

import yaml
from playwright.sync_api import expect

from tests.processes import stop_process, wait_http
from tests.servers import BIN, ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
ARTIFACTS = ROOT / "artifacts"
REPLY_TIMEOUT_MS = 30_000


def web_credentials() -> str:
    """The website's channels exactly as credentials.yml configures them (REST and socket.io)."""
    config = yaml.safe_load((ROOT / "credentials.yml").read_text()) or {}
    keep = {
        name: value for name, value in config.items()
        if name in ("rest", "socketio") or name.endswith(("RestInput", ".SocketIOInput"))
    }
    assert any(n.endswith("socketio.SocketIOInput") for n in keep), (
        "credentials.yml must configure channels.socketio.SocketIOInput"
    )
    return yaml.safe_dump(keep)


class PageServer:
    def __init__(self, workdir: Path, port: int, rasa_port: int, name: str) -> None:
        self.port = port
        self.log = workdir / f"{name}.log"
        self.process = subprocess.Popen(
            [str(BIN / "python"), str(ROOT / "web" / "server.py"),
             "--port", str(port), "--rasa-port", str(rasa_port)],
            cwd=ROOT, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
            env={**os.environ, "WEB_QUIET": "1"}, start_new_session=True,
        )
        wait_http(f"{self.url}/health", self.process, self.log, timeout=20, poll=0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_process(self.process, grace=10)


def bot_texts(page) -> List[str]:
    """The text of each bot message (without the "Assistant:" the page adds for screen readers)."""
    return [t.strip() for t in page.locator("#chat .rw-response .rw-message-text").all_inner_texts()]


def wait_for_bot(page, pattern: str, after: int = 0) -> str:
    """Waits for a bot message (among those after the first `after`) matching `pattern`."""
    regex = re.compile(pattern, re.I)
    deadline = time.monotonic() + REPLY_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        for text in bot_texts(page)[after:]:
            if regex.search(text):
                return text
        page.wait_for_timeout(200)
    raise AssertionError(f"no bot message matching {pattern!r}; bot said: {bot_texts(page)}")


def ask(page, text: str) -> int:
    """Types `text` like a user and presses Enter; returns the bot message count before it."""
    before = len(bot_texts(page))
    box = page.locator("#chat .rw-new-message")
    box.wait_for(state="visible")
    # Playwright's own assertion, not wait_for_function: a predicate string is evaluated with
    # eval in the page, which the page's Content-Security-Policy forbids once it has to poll.
    expect(box).to_be_enabled(timeout=REPLY_TIMEOUT_MS)
    box.fill(text)
    box.press("Enter")
    page.locator("#chat .rw-client", has_text=text[:30]).last.wait_for(timeout=10_000)
    return before


def session_id(page) -> str:
    raw = page.evaluate("window.localStorage.getItem('chat_session')")
    assert raw, "the widget stored no session"
    return json.loads(raw)["session_id"]
