"""How many tempting country messages get a wrong fact (tests/tempting_countries.yml).

Starts the real action and Rasa servers (tests/servers.py) on free ports, sends every message of
the set in a new conversation through the REST channel, and reads the `topic` and `country` slots
the answer set. Prints per language how many answers were about a country that was not meant
("wrong fact") and how many were right (the meant country and topic, or no country at all).

    .venv/bin/python tests/tools/tempting_countries.py [--out results/tempting_countries.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
CASES = ROOT / "tests" / "tempting_countries.yml"


def load_cases(path: Path = CASES) -> Dict[str, List[Dict[str, Any]]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def accepted(case: Dict[str, Any]) -> List[Optional[str]]:
    expected = case.get("country")
    return list(expected) if isinstance(expected, list) else [expected]


def judge(case: Dict[str, Any], topic: Optional[str], country: Optional[str]) -> str:
    """'wrong' (an answer about a country that was not meant), 'right' or 'unanswered' (no
    country answer where one was meant, or the meant country on another topic)."""
    if country is None:
        return "right" if None in accepted(case) else "unanswered"
    if country not in accepted(case):
        return "wrong"
    topics = case.get("topic", "member_states")
    if topic in (topics if isinstance(topics, list) else [topics]):
        return "right"
    return "unanswered"


def run(stack) -> Dict[str, Any]:
    results: Dict[str, Any] = {}
    for lang, cases in load_cases().items():
        rows = []
        for case in cases:
            sender = f"tempting-{uuid.uuid4().hex[:12]}"
            replies = stack.say(sender, case["text"])
            slots = stack.tracker(sender)["slots"]
            verdict = judge(case, slots.get("topic"), slots.get("country"))
            rows.append({
                "text": case["text"], "expected": case.get("country"), "verdict": verdict,
                "topic": slots.get("topic"), "country": slots.get("country"),
                "reply": "\n".join(r.get("text", "") for r in replies)[:300],
            })
        results[lang] = {
            "total": len(rows),
            "wrong": sum(r["verdict"] == "wrong" for r in rows),
            "right": sum(r["verdict"] == "right" for r in rows),
            "unanswered": sum(r["verdict"] == "unanswered" for r in rows),
            "rows": rows,
        }
    return results


def main() -> int:
    from tests.servers import Stack

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "results" / "tempting_countries.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir)).start()
        try:
            results = run(stack)
        finally:
            stack.stop()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    for lang, result in results.items():
        for row in result["rows"]:
            if row["verdict"] != "right":
                print(f"  [{lang}] {row['verdict']}: {row['text']!r} -> topic {row['topic']}, "
                      f"country {row['country']} (expected {row['expected']})")
        print(f"tempting country messages [{lang}]: {result['wrong']} wrong fact(s), "
              f"{result['unanswered']} unanswered, {result['right']} right, of {result['total']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
