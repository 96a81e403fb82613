"""No personal data typed by a user survives in storage or logs: end to end, real servers.

The real action server and Rasa server (tests/servers.py) with the website's channels exactly as
credentials.yml configures them (the guarded REST channel and our socket.io channel), both at
DEBUG log level, where Rasa logs every message's text. Messages full of phone numbers, e-mail
addresses, card, IBAN and passport numbers go in through REST (also in the metadata) and through
a real socket.io client; then the tracker store (the SQLite file, read back directly), the
servers' log files and the review's reports must hold none of them, while holding the redacted
messages.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import List

import pytest
import yaml

from tests.processes import free_port
from tests.servers import BIN, ROOT, Stack, socketio_session, web_conversation_id

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

# What people type, and the personal data in it that must disappear.
SECRETS = [
    "06 12 34 56 78", "+33 6 98 76 54 32", "0033 7 11 22 33 44", "(212) 555-0147", "07911 123456",
    "612 34 56 78", "+221 77 123 45 67", "awa.diop@gmail.com", "j.smith@yahoo.co.uk",
    "maria.lopez@correo.es", "FR76 3000 6000 0112 3456 7890 189", "4970 1012 3456 7899",
    "12AB34567", "X1234567L", "+212 6 61 23 45 67", "0470 55 66 77",
]
REST_MESSAGES = [
    "Bonjour, mon numéro est 06 12 34 56 78, rappelez-moi",
    "Qui dirige l'OIM ? Mon mail : awa.diop@gmail.com et mon tel +33 6 98 76 54 32",
    "my passport 12AB34567 was stolen, call me on 07911 123456 or (212) 555-0147",
    "mi NIE es X1234567L, mi teléfono 612 34 56 78, correo maria.lopez@correo.es",
    "IBAN FR76 3000 6000 0112 3456 7890 189 carte 4970 1012 3456 7899",
    "Depuis 1951 ? 175 États membres ? Et l'ODD 10.7 ?",
]
SOCKET_MESSAGES = [
    "Bonjour, je suis à Dakar, +221 77 123 45 67",
    "¿Qué hace la OIM? escríbeme a j.smith@yahoo.co.uk o llama al 0033 7 11 22 33 44",
]
# Kept: questions with numbers in them.
KEPT = ["Depuis 1951 ? 175 États membres ? Et l'ODD 10.7 ?"]


def _forms(secret: str) -> List[str]:
    """The ways a secret could appear in a file: as typed, JSON-escaped (structlog, events),
    and its digits alone (from 10 digits: shorter runs turn up by chance in timestamps and ids)."""
    forms = {secret, json.dumps(secret)[1:-1]}
    digits = "".join(c for c in secret if c.isdigit())
    if len(digits) >= 10:
        forms.add(digits)
    return sorted(forms)


def web_credentials() -> str:
    config = yaml.safe_load((ROOT / "credentials.yml").read_text()) or {}
    keep = {n: v for n, v in config.items() if n.endswith(("RestInput", ".SocketIOInput"))}
    assert "channels.rest.GuardedRestInput" in keep and "channels.socketio.SocketIOInput" in keep
    return yaml.safe_dump(keep)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("privacy")
    origin = f"http://127.0.0.1:{free_port()}"
    stack = Stack(
        workdir, credentials=web_credentials(), env={"IOM_ALLOWED_ORIGINS": origin},
        extra_rasa_args=["--debug"], extra_actions_args=["--debug"],
    )
    stack.start()
    try:
        rest_replies = [
            stack.say("rest-user", text, metadata={"language": "fr", "email": "awa.diop@gmail.com",
                                                   "contact": {"phone": "0470 55 66 77"}})
            for text in REST_MESSAGES
        ]
        secret, socket_replies = asyncio.run(
            socketio_session(stack.url, origin, None, SOCKET_MESSAGES,
                             {"language": "fr", "phone": "+212 6 61 23 45 67"})
        )
    finally:
        stack.stop()
    # Where the web chat's conversation is kept (docs/privacy.md).
    stack.web_sender = web_conversation_id(secret)
    return workdir, stack, rest_replies, socket_replies


def _rows(db: Path) -> List[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT sender_id, type_name, data FROM events ORDER BY id").fetchall()


def test_every_message_was_answered(run):
    _, _, rest_replies, socket_replies = run
    assert all(replies for replies in rest_replies)
    assert len(socket_replies) >= len(SOCKET_MESSAGES)


def test_tracker_store_holds_the_redacted_messages_and_no_personal_data(run):
    workdir, stack, _, _ = run
    rows = _rows(workdir / "tracker.db")
    stored = "\n".join(data for _, _, data in rows)
    user_texts = {
        sender: [json.loads(data)["text"] for s, kind, data in rows if kind == "user" and s == sender]
        for sender in ("rest-user", stack.web_sender)
    }
    # The messages arrived, redacted, through both channels...
    assert len(user_texts["rest-user"]) == len(REST_MESSAGES)
    assert len(user_texts[stack.web_sender]) == len(SOCKET_MESSAGES)
    assert user_texts["rest-user"][0] == "Bonjour, mon numéro est [phone], rappelez-moi"
    assert user_texts["rest-user"][4] == "IBAN [number] carte [number]"
    assert user_texts[stack.web_sender][0] == "Bonjour, je suis à Dakar, [phone]"
    assert user_texts["rest-user"][5] == KEPT[0]
    # ...with only the metadata the assistant uses kept (channels/metadata.py: the e-mail address
    # and phone number sent as metadata are not stored at all)...
    first_user = next(json.loads(data) for s, kind, data in rows if kind == "user" and s == "rest-user")
    assert set(first_user["metadata"]) - {"model_id", "assistant_id"} <= {"language", "message_id"}  # + Rasa's own
    # ...and nothing of the personal data anywhere in the database.
    leaks = [form for secret in SECRETS for form in _forms(secret) if form in stored]
    assert leaks == []


def test_logs_hold_no_personal_data(run):
    workdir, _, _, _ = run
    logs = {name: (workdir / name).read_text(errors="replace") for name in ("rasa.log", "actions.log")}
    leaks = [
        (name, form) for name, text in logs.items()
        for secret in SECRETS for form in _forms(secret) if form in text
    ]
    assert leaks == []
    # The check means something: at DEBUG, Rasa does log what users typed (redacted here).
    assert "[phone]" in logs["rasa.log"]


def test_review_reports_hold_no_personal_data(run, tmp_path):
    workdir, stack, _, _ = run
    subprocess.run(
        [str(BIN / "python"), "-m", "review", "--endpoints", str(workdir / "endpoints.yml"),
         "--days", "1", "--out", str(tmp_path)],
        cwd=ROOT, check=True, capture_output=True, text=True, timeout=120,
    )
    reports = "\n".join((tmp_path / name).read_text() for name in ("review.html", "unanswered.csv", "unanswered_nlu.yml"))
    assert "Messages per day" in reports
    leaks = [form for secret in SECRETS for form in _forms(secret) if form in reports]
    assert leaks == []
