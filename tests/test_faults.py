"""Faults against the real servers: action server down or hung, facts file broken while running,
Rasa server restarted."""

from __future__ import annotations

import os
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from actions.facts import DEFAULT_FACTS_PATH, _FactsLoader, load_facts
from tests.servers import Stack, texts

pytestmark = pytest.mark.integration

FACTS = load_facts()
ACTION_TIMEOUT = 2.0  # IOM_ACTION_TIMEOUT for this stack: how long a hung action server may cost


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("faults")
    facts_file = workdir / "facts.yml"
    shutil.copy(DEFAULT_FACTS_PATH, facts_file)
    running = Stack(
        workdir,
        credentials="channels.rest.GuardedRestInput:\n",
        facts_file=facts_file,
        env={"IOM_ACTION_TIMEOUT": str(ACTION_TIMEOUT)},
    )
    running.facts_file = facts_file
    running.start()
    running.say("warm-up", "Hello")
    yield running
    running.stop()


def timed_say(stack: Stack, sender: str, text: str, metadata=None):
    started = time.monotonic()
    replies = stack.say(sender, text, metadata)
    return texts(replies), time.monotonic() - started


def user_texts(stack: Stack, sender: str):
    return [e["text"] for e in stack.tracker(sender)["events"] if e["event"] == "user"]


# --- action server ------------------------------------------------------------------------

QUESTIONS = [
    ("Where is the IOM headquarters?", None, "en"),
    ("Où se trouve le siège de l'OIM ?", None, "fr"),
    ("Who leads IOM?", None, "en"),
    ("Bonjour", None, "fr"),
    ("ok", {"language": "en"}, "en"),
]


def test_action_server_down_gets_unavailable_quickly_then_recovers(stack):
    sender = "down"
    assert "Geneva" in timed_say(stack, sender, "Where is the IOM headquarters?")[0]
    stack.stop_actions()
    try:
        timings = []
        for text, metadata, lang in QUESTIONS:
            reply, elapsed = timed_say(stack, sender, text, metadata)
            timings.append(elapsed)
            assert reply == FACTS.message("unavailable", lang), (text, reply)
            assert elapsed < 2.0, f"{text!r} took {elapsed:.2f}s"
        print(f"\naction server down: 'unavailable' replies in {max(timings) * 1000:.0f} ms at most")
    finally:
        stack.start_actions()
    # Back by itself: no restart of Rasa, the same conversation answers normally again.
    reply, _ = timed_say(stack, sender, "Qui dirige l'OIM ?")
    assert "Pope" in reply and reply != FACTS.message("unavailable", "fr")
    assert stack.slot(sender, "topic") == "director_general"
    # Nothing the user said while it was down is lost.
    assert user_texts(stack, sender) == [
        "Where is the IOM headquarters?", *[q for q, _, _ in QUESTIONS], "Qui dirige l'OIM ?"
    ]


def test_hung_action_server_costs_at_most_the_action_timeout(stack):
    sender = "hung"
    os.killpg(stack.actions.pid, signal.SIGSTOP)  # accepts connections, never answers
    try:
        reply, elapsed = timed_say(stack, sender, "Where is the IOM headquarters?")
        assert reply == FACTS.message("unavailable", "en")
        assert elapsed < ACTION_TIMEOUT + 2.0, f"took {elapsed:.2f}s"
        print(f"\naction server hung: 'unavailable' after {elapsed:.2f}s (timeout {ACTION_TIMEOUT}s)")
    finally:
        os.killpg(stack.actions.pid, signal.SIGCONT)
    assert "Genève" in timed_say(stack, sender, "Où est le siège de l'OIM ?")[0]


def test_message_sent_before_the_action_server_listens_gets_its_answer(tmp_path):
    """`make run` starts both servers side by side, so the Rasa server can be up first. A message
    it gets then waits for the action server (server/action_start.py) instead of being answered
    "temporarily unavailable", and is answered once the action server listens. (Once the action
    server has answered, a refused connection fails at once: the first test above.)"""
    early = Stack(tmp_path, credentials="channels.rest.GuardedRestInput:\n",
                  env={"IOM_ACTION_START_WAIT": "120"})  # the default 10 s, with room for a slow CI
    try:
        early.start_rasa()  # and no action server yet
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(early.say, "early", "Bonjour")
            time.sleep(1.0)
            assert not pending.done(), texts(pending.result())  # not answered "unavailable"
            early.start_actions()
            reply = texts(pending.result(timeout=60))
        assert reply == FACTS.message("greet", "fr")
        assert user_texts(early, "early") == ["Bonjour"]
        # A stopped action server is then reported at once, as before.
        early.stop_actions()
        reply, elapsed = timed_say(early, "early", "Who leads IOM?")
        assert reply == FACTS.message("unavailable", "en")
        assert elapsed < 2.0, f"took {elapsed:.2f}s"
    finally:
        early.stop()


# --- facts file broken while running ----------------------------------------------------------

def edit_facts(path, change):
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_FactsLoader)  # noqa: S506
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def wait_for_log(path, needle, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace")
        if needle in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} not in {path}:\n{path.read_text(errors='replace')[-2000:]}")


def test_broken_facts_file_keeps_the_last_good_version(stack):
    facts_file = stack.facts_file
    original = facts_file.read_text(encoding="utf-8")
    sender = "facts"
    question = "Where is the IOM headquarters?"
    try:
        # A valid edit is live on the next message (no restart).
        def mark(data):
            data["facts"]["headquarters"]["short"]["en"] += " MARKER-GOOD."
        edit_facts(facts_file, mark)
        time.sleep(0.05)
        assert "MARKER-GOOD" in timed_say(stack, sender, question)[0]

        # A schema error: the key and the problem are logged, the last good text keeps serving.
        def break_schema(data):
            data["facts"]["headquarters"]["short"]["en"] = 12345
            data["messages"]["empty"]["en"] = ["not", "text"]
        edit_facts(facts_file, break_schema)
        reply = timed_say(stack, sender, question)[0]
        assert "MARKER-GOOD" in reply and "12345" not in reply
        # The Rasa server's own replies (the guard) keep the last good version too.
        assert texts(stack.say(sender, "  ", {"language": "en"})) == FACTS.message("empty", "en")
        for log in ("actions.log", "rasa.log"):
            text = wait_for_log(stack.workdir / log, "keeping the last good version")
            line = next(
                ln for ln in text.splitlines()[::-1] if "keeping the last good version" in ln
            )
            assert str(facts_file) in line, line
            assert "facts.headquarters.short.en" in line or "messages.empty.en" in line, line
            assert "is not of type 'string'" in line, line

        # Not even YAML: the line is logged, still served.
        facts_file.write_text(original.replace("messages:", "messages: [", 1), encoding="utf-8")
        assert "MARKER-GOOD" in timed_say(stack, sender, question)[0]
        text = wait_for_log(stack.workdir / "actions.log", "not valid YAML")
        assert str(facts_file) in text and "line " in text

        # Deleted: still served.
        facts_file.unlink()
        assert "MARKER-GOOD" in timed_say(stack, sender, question)[0]
    finally:
        facts_file.write_text(original, encoding="utf-8")
    # Fixed: the fixed file serves again.
    reply = timed_say(stack, sender, question)[0]
    assert "Geneva" in reply and "MARKER-GOOD" not in reply
    # Every question is in the tracker (the blank message was answered by the guard, unstored).
    assert user_texts(stack, sender) == [question] * 5


# --- Rasa server restarted --------------------------------------------------------------------

def test_rasa_restart_loses_nothing(stack):
    sender = "restart"
    reply, _ = timed_say(stack, sender, "Who is the Director General of IOM?")
    assert "Pope" in reply
    before = stack.tracker(sender)["events"]
    stack.stop_rasa()
    stack.start_rasa()
    after_restart = stack.tracker(sender)["events"]
    assert [e["event"] for e in after_restart] == [e["event"] for e in before]
    # The follow-up still knows the topic from before the restart.
    reply, _ = timed_say(stack, sender, "source?")
    assert "iom.int" in reply
    assert stack.slot(sender, "topic") == "director_general"
    assert user_texts(stack, sender) == ["Who is the Director General of IOM?", "source?"]
