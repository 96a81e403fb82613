"""Retention (`make purge`, the daily purge) and `make forget`, on SQLite and on the real
PostgreSQL, through the real command-line tools; and a running server that must not bring a
deleted conversation back from its in-memory cache (server/tracker_store.py)."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List

import pytest

from tests.servers import BIN, ROOT, Stack, texts
from tests.tracker_seed import DAY, Conversation, postgresql_store, save, sqlite_store

NOW = time.time()


def seed(store) -> Dict[str, int]:
    """Old, mixed and recent conversations; returns the number of events of each."""
    conversations = [
        Conversation("old-1", NOW - 200 * DAY).turn("Bonjour", "greet", 0.9),
        Conversation("old-2", NOW - 120 * DAY).turn("Qui dirige l'OIM ?", "ask_office", 0.8,
                                                    topic="director_general")
        .turn("merci", "thanks", 0.9),
        Conversation("whatsapp:+33612345678", NOW - 91 * DAY).turn("hola", "greet", 0.9, language="es"),
        # Began long ago, but the person wrote again yesterday: kept whole.
        Conversation("mixed", NOW - 150 * DAY).turn("Bonjour", "greet", 0.9)
        .turn("Et depuis quand ?", "ask_since_when", 0.7, at=NOW - 1 * DAY, topic="history"),
        Conversation("recent-1", NOW - 3 * DAY).turn("Who leads IOM?", "ask_office", 0.9, language="en",
                                                    topic="director_general"),
        Conversation("recent-2", NOW - 3600).turn("/ask_history", "ask_history", 1.0, topic="history"),
    ]
    save(store, conversations)
    return {c.sender: len(c.events) for c in conversations}


def sqlite_counts(db: Path) -> Counter:
    with sqlite3.connect(db) as connection:
        return Counter(dict(connection.execute("SELECT sender_id, count(*) FROM events GROUP BY sender_id")))


def tool(module: str, *args: str, env: Dict[str, str] = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "python"), "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={**os.environ, **(env or {})},
    )


OLD = {"old-1", "old-2", "whatsapp:+33612345678"}
KEPT = {"mixed", "recent-1", "recent-2"}


@pytest.fixture
def sqlite_db(tmp_path):
    db = tmp_path / "tracker.db"
    events = seed(sqlite_store(db))
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: server.tracker_store.WindowedSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {db}\n"
    )
    return db, endpoints, events


def test_purge_deletes_old_conversations_and_keeps_recent_ones_whole_sqlite(sqlite_db):
    db, endpoints, events = sqlite_db
    dry = tool("privacy.purge", "--endpoints", str(endpoints), "--dry-run")
    assert dry.returncode == 0 and "Would delete 3 conversation(s)" in dry.stdout, dry
    assert set(sqlite_counts(db)) == OLD | KEPT

    result = tool("privacy.purge", "--endpoints", str(endpoints))
    assert result.returncode == 0, result.stderr
    assert f"Deleted 3 conversation(s) ({sum(events[s] for s in OLD)} events)" in result.stdout
    assert "90 days" in result.stdout
    assert sqlite_counts(db) == Counter({s: events[s] for s in KEPT})


def test_retention_days_come_from_the_environment(sqlite_db):
    db, endpoints, events = sqlite_db
    result = tool("privacy.purge", "--endpoints", str(endpoints), env={"IOM_RETENTION_DAYS": "2"})
    assert result.returncode == 0, result.stderr
    # 2 days: only the conversations with a message in the last 2 days stay.
    assert sqlite_counts(db) == Counter({s: events[s] for s in ("mixed", "recent-2")})


@pytest.mark.parametrize("value", ["0", "-3", "ninety", "inf"])
def test_a_wrong_retention_setting_is_refused_and_deletes_nothing(sqlite_db, value):
    db, endpoints, events = sqlite_db
    result = tool("privacy.purge", "--endpoints", str(endpoints), env={"IOM_RETENTION_DAYS": value})
    assert result.returncode == 2
    assert "IOM_RETENTION_DAYS" in result.stderr
    assert sqlite_counts(db) == Counter(events)


def test_forget_deletes_one_conversation_only_sqlite(sqlite_db):
    db, endpoints, events = sqlite_db
    result = tool("privacy.forget", "recent-1", "--endpoints", str(endpoints))
    assert result.returncode == 0, result.stderr
    assert f"({events['recent-1']} events)" in result.stdout
    assert sqlite_counts(db) == Counter({s: n for s, n in events.items() if s != "recent-1"})
    again = tool("privacy.forget", "recent-1", "--endpoints", str(endpoints))
    assert again.returncode == 0 and "nothing to delete" in again.stdout


def test_purge_runs_by_itself_at_the_interval(sqlite_db):
    """What `make run` starts next to the servers (with --interval 86400)."""
    db, endpoints, events = sqlite_db
    process = subprocess.Popen(
        [str(BIN / "python"), "-m", "privacy.purge", "--endpoints", str(endpoints), "--interval", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while set(sqlite_counts(db)) != KEPT and time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.5)
        assert set(sqlite_counts(db)) == KEPT
        # New conversations that grow old are purged on a later round, without a restart.
        save(sqlite_store(db), [Conversation("old-later", NOW - 100 * DAY).turn("Bonjour", "greet", 0.9)])
        deadline = time.monotonic() + 60
        while "old-later" in sqlite_counts(db) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "old-later" not in sqlite_counts(db)
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


# --- PostgreSQL (deploy/endpoints.yml), throw-away database ------------------------------------


@pytest.fixture
def postgresql_db():
    pytest.importorskip("psycopg2")
    from tests.cluster import create_database, db_settings, drop_database

    settings = db_settings()
    name = create_database(settings)
    try:
        events = seed(postgresql_store(settings, name))
        yield settings, name, events
    finally:
        drop_database(settings, name)


def postgresql_counts(settings: Dict[str, str], name: str) -> Counter:
    import psycopg2

    connection = psycopg2.connect(
        host=settings["DB_HOST"], port=settings["DB_PORT"], user=settings["DB_USER"],
        password=settings["DB_PASSWORD"] or None, dbname=name,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sender_id, count(*) FROM events GROUP BY sender_id")
            return Counter(dict(cursor.fetchall()))
    finally:
        connection.close()


def _deploy_env(settings: Dict[str, str], name: str) -> Dict[str, str]:
    # Only the tracker store's variables: the tools need neither Redis nor the action server.
    env = {k: v for k, v in settings.items() if k.startswith("DB_")}
    env["DB_NAME"] = name
    return env


def test_purge_and_forget_on_postgresql(postgresql_db):
    settings, name, events = postgresql_db
    env = _deploy_env(settings, name)
    endpoints = str(ROOT / "deploy" / "endpoints.yml")
    assert postgresql_counts(settings, name) == Counter(events)

    result = tool("privacy.purge", "--endpoints", endpoints, env=env)
    assert result.returncode == 0, result.stderr
    assert f"Deleted 3 conversation(s) ({sum(events[s] for s in OLD)} events)" in result.stdout
    assert "postgresql" in result.stdout and (settings["DB_PASSWORD"] or "\0") not in result.stdout
    assert postgresql_counts(settings, name) == Counter({s: events[s] for s in KEPT})

    result = tool("privacy.forget", "mixed", "--endpoints", endpoints, env=env)
    assert result.returncode == 0, result.stderr
    assert postgresql_counts(settings, name) == Counter({s: events[s] for s in ("recent-1", "recent-2")})


def test_missing_database_settings_are_named(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
    result = subprocess.run(
        [str(BIN / "python"), "-m", "privacy.purge", "--endpoints", str(ROOT / "deploy" / "endpoints.yml")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
    )
    assert result.returncode == 2
    assert "DB_HOST" in result.stderr


# --- a running server: deleted conversations do not come back from its memory ----------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("retention"), credentials="channels.rest.GuardedRestInput:\n")
    stack.start()
    yield stack
    stack.stop()


def _user_texts(stack: Stack, sender: str) -> List[str]:
    return [e["text"] for e in stack.tracker(sender)["events"] if e["event"] == "user"]


def _follow_up_after_deletion(stack: Stack, sender: str, delete) -> None:
    assert "Pope" in texts(stack.say(sender, "Qui dirige l'OIM ?"))  # now cached by the server
    assert stack.slot(sender, "topic") == "director_general"
    delete()
    # The follow-up finds no topic: the conversation starts afresh, nothing came back.
    reply = texts(stack.say(sender, "Depuis quand ?"))
    assert "De quel sujet parlez-vous" in reply, reply
    assert stack.slot(sender, "topic") is None
    assert _user_texts(stack, sender) == ["Depuis quand ?"]


@pytest.mark.integration
def test_forgotten_conversation_does_not_come_back_from_a_running_server(stack):
    endpoints = stack.workdir / "endpoints.yml"

    def forget() -> None:
        result = tool("privacy.forget", "to-forget", "--endpoints", str(endpoints))
        assert result.returncode == 0 and "events)" in result.stdout, result

    _follow_up_after_deletion(stack, "to-forget", forget)


@pytest.mark.integration
def test_purged_conversation_does_not_come_back_from_a_running_server(stack):
    endpoints = stack.workdir / "endpoints.yml"

    def age_and_purge() -> None:
        # As if 100 days had passed for this conversation only.
        with sqlite3.connect(stack.tracker_db) as connection:
            connection.execute(
                "UPDATE events SET timestamp = timestamp - ? WHERE sender_id = 'to-purge'", (100 * DAY,)
            )
        result = tool("privacy.purge", "--endpoints", str(endpoints))
        assert result.returncode == 0 and "Deleted 1 conversation(s)" in result.stdout, result

    _follow_up_after_deletion(stack, "to-purge", age_and_purge)


# --- deployments: the daily purge is configured where the assistant runs ----------------------


def test_helm_values_carry_a_daily_cronjob_running_the_purge():
    import yaml

    from privacy.purge import parser

    values = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yml").read_text())
    job = values["retention"]["cronJob"]
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "CronJob")
    minute, hour, day, month, weekday = job["spec"]["schedule"].split()
    assert (day, month, weekday) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()
    container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == values["image"]["repository"] + ":" + values["image"]["tag"]
    command = container["command"]
    assert command[:3] == ["python", "-m", "privacy.purge"]
    args = parser().parse_args(command[3:])
    assert args.interval is None  # one run per CronJob run
    # Every variable the tracker store section of that endpoints file needs is set.
    env = {item["name"] for item in container["env"]}
    needed = set(re.findall(r"\$\{(\w+)\}", (ROOT / args.endpoints).read_text().split("tracker_store:")[1].split("\n\n")[0]))
    assert needed <= env, needed - env
    assert "IOM_RETENTION_DAYS" in env
    template = (ROOT / "deploy" / "helm" / "retention" / "templates" / "cronjob.yaml").read_text()
    assert ".Values.retention.cronJob" in template


def test_scripts_and_image_run_the_purge():
    run = (ROOT / "scripts" / "run.sh").read_text()
    scaled = (ROOT / "scripts" / "run_scaled.sh").read_text()
    assert '-m privacy.purge --endpoints "$RUN/endpoints.yml" --interval 86400' in run
    assert "-m privacy.purge --endpoints deploy/endpoints.yml --interval 86400" in scaled
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "COPY privacy /app/privacy" in dockerfile  # channels/guard.py imports it
