"""The windowed tracker store (server/tracker_store.py) loses nothing and keeps the state.

Real action server + Rasa server (tests/servers.py) with `WindowedSQLTrackerStore` on SQLite, a
small window (2 user turns), so the window is cut several times in one conversation, and room for
only 3 conversations in memory, so conversations are evicted and come back.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.servers import Stack, texts

QUESTIONS = [
    "Qu'est-ce que l'OIM ?",
    "Where is the headquarters of IOM?",
    "Bonjour",
    "Who is the Director General?",
    "merci",
    "How can I apply for a job at IOM?",
    "Est-ce que le Mali est membre ?",
    "hello",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("windowed")
    s = Stack(workdir)
    s.endpoints = (
        f'action_endpoint:\n  url: "http://127.0.0.1:{s.actions_port}/webhook"\n'
        "tracker_store:\n  type: server.tracker_store.WindowedSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {s.tracker_db}\n  window_turns: 2\n  max_conversations: 3\n"
    )
    s.start()
    yield s
    s.stop()
    log = (workdir / "rasa.log").read_text(errors="replace")
    assert "Falling back to InMemoryTrackerStore" not in log


def user_texts(tracker):
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_full_tracker_keeps_every_message_and_state(stack):
    sender = "windowed-long"
    sent = [QUESTIONS[i % len(QUESTIONS)] for i in range(14)]
    for text in sent:
        assert texts(stack.say(sender, text)).strip()
    tracker = stack.tracker(sender)
    assert user_texts(tracker) == sent
    bot = [e for e in tracker["events"] if e["event"] == "bot"]
    assert len(bot) >= len(sent)
    # The last fact answered was the job question (13th): the slot survived every window cut.
    assert tracker["slots"]["topic"] == "careers"
    # The database holds each event once: no duplicates from the window.
    rows = sqlite3.connect(stack.tracker_db).execute(
        "select count(*) from events where sender_id = ? and type_name = 'user'", (sender,)
    ).fetchone()[0]
    assert rows == len(sent)


def test_follow_up_after_window_cut_uses_topic_from_before(stack):
    sender = "windowed-follow-up"
    stack.say(sender, "Who is the Director General?")
    # Small talk does not change the topic; after these the question is outside the window.
    for text in ["hello", "thanks", "hello"]:
        stack.say(sender, text)
    assert stack.slot(sender, "topic") == "director_general"
    more = texts(stack.say(sender, "tell me more"))
    assert more.strip()
    assert stack.slot(sender, "topic") == "director_general"


def test_restart_of_rasa_server_continues_the_conversation(stack):
    sender = "windowed-restart"
    before = ["Qu'est-ce que l'OIM ?", "Bonjour", "merci", "Où est le siège ?"]
    for text in before:
        stack.say(sender, text)
    stack.stop_rasa()
    stack.start_rasa()
    assert texts(stack.say(sender, "Depuis quand ?")).strip()
    tracker = stack.tracker(sender)
    assert user_texts(tracker) == before + ["Depuis quand ?"]
    assert tracker["slots"]["topic"] == "headquarters"


def test_conversation_evicted_from_memory_comes_back_whole(stack):
    sender = "windowed-evicted"
    stack.say(sender, "Who is the Director General?")
    stack.say(sender, "merci")
    for other in range(5):  # more conversations than the store keeps in memory
        assert texts(stack.say(f"windowed-other-{other}", "Où est le siège de l'OIM ?")).strip()
    more = texts(stack.say(sender, "tell me more"))
    assert "Vitorino" in more  # the longer answer about the Director General
    assert stack.slot(sender, "topic") == "director_general"
    assert user_texts(stack.tracker(sender)) == ["Who is the Director General?", "merci", "tell me more"]
