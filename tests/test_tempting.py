"""Tempting messages (tests/tempting/<lang>.yml) on the real servers: no confident wrong answer.

Each message starts a new conversation on the real Rasa and action servers (REST channel). The
fact the reply came from is the `topic` slot that turn set (contract); it is a wrong fact when it
is not one of the entry's `ok` ids, and a miss when an entry that `needs_answer` got no fact at
all. Counts per language go to results/tempting.json (docs/testing.md, "Tempting messages").
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import yaml

from tests.servers import ROOT, Stack

pytestmark = pytest.mark.integration
FOLDER = Path(__file__).parent / "tempting"


def tempting_messages() -> Dict[str, List[Dict]]:
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(FOLDER.glob("*.yml"))
    }


def topic_set_by_last_turn(tracker: Dict) -> Optional[str]:
    """The `topic` the last turn set (None when it set none: small talk, fallback)."""
    events = tracker["events"]
    last_user = max(i for i, e in enumerate(events) if e["event"] == "user")
    topics = [e["value"] for e in events[last_user:] if e["event"] == "slot" and e["name"] == "topic"]
    return topics[-1] if topics else None


def judge(entry: Dict, topic: Optional[str]) -> Optional[str]:
    if topic is not None and topic not in entry["ok"]:
        return "wrong fact"
    if topic is None and entry.get("needs_answer"):
        return "no answer"
    return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("tempting")).start()
    yield running
    running.stop()


def test_tempting_messages_get_no_wrong_fact(stack):
    report, failures = {}, []
    for lang, entries in tempting_messages().items():
        counts = {"messages": len(entries), "wrong fact": 0, "no answer": 0}
        for entry in entries:
            sender = f"tempt-{uuid.uuid4().hex[:12]}"
            stack.say(sender, entry["text"])
            tracker = stack.tracker(sender)
            topic = topic_set_by_last_turn(tracker)
            verdict = judge(entry, topic)
            if verdict:
                counts[verdict] += 1
                intent = tracker["latest_message"]["intent"]
                failures.append(
                    f"[{lang}] {entry['text']!r}: {verdict} (topic {topic}, intent {intent['name']} "
                    f"{intent.get('confidence', 0):.2f}, expected one of {entry['ok']})"
                )
        report[lang] = counts
    out = ROOT / "results" / "tempting.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"counts": report, "failures": failures}, ensure_ascii=False, indent=1))
    assert not failures, "\n".join([json.dumps(report)] + failures)


def test_the_sets_cover_each_language_and_are_well_formed():
    sets = tempting_messages()
    assert {"fr", "en", "es"} <= set(sets)
    facts = yaml.safe_load((ROOT / "facts" / "facts.yml").read_text(encoding="utf-8"))["facts"]
    for lang, entries in sets.items():
        assert len(entries) >= 30, lang
        for entry in entries:
            assert set(entry) <= {"text", "ok", "needs_answer"}, entry
            assert entry["text"].strip() and isinstance(entry["ok"], list), entry
            assert set(entry["ok"]) <= set(facts), entry
            assert not entry.get("needs_answer") or entry["ok"], entry
