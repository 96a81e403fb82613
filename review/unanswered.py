"""The messages the assistant did not answer well, grouped: reports/unanswered.csv and
reports/unanswered_nlu.yml.

A message is listed when its reply was "not understood" or "out of scope", or when it got a fact
answer while the classifier's confidence was below `min_confidence` (button clicks excepted).
Near-identical messages are one row: texts are compared folded (case, accents, punctuation and
spaces ignored), and two folded texts of 10 characters or more that are at least 90% alike
(rapidfuzz's ratio, typos) are merged too. Each row keeps the most frequent wording.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, List, Sequence

from rapidfuzz import fuzz, process

from review.turns import Turn, fold

FUZZY_MIN_LENGTH = 10
FUZZY_MIN_SCORE = 90.0
CSV_COLUMNS = (
    "text", "language", "outcome", "intent", "confidence", "guessed_intent", "count",
    "first_seen", "last_seen",
)


def is_unanswered(turn: Turn, min_confidence: float) -> bool:
    if turn.is_click or not turn.text.strip():
        return False
    if turn.outcome in ("not_understood", "out_of_scope"):
        return True
    return turn.outcome == "answered" and turn.guess_confidence < min_confidence


def low_confidence(turn: Turn, min_confidence: float) -> bool:
    return turn.outcome == "answered" and not turn.is_click and turn.guess_confidence < min_confidence


@dataclass
class Group:
    key: str
    turns: List[Turn] = field(default_factory=list)

    def _most_common(self, values: Sequence[str]) -> str:
        counts = Counter(v for v in values if v)
        if not counts:
            return ""
        best = max(counts.values())
        # Ties: the value seen first.
        return next(v for v in values if v and counts[v] == best)

    @property
    def text(self) -> str:
        return self._most_common([t.text for t in self.turns])

    @property
    def count(self) -> int:
        return len(self.turns)

    @property
    def first_seen(self) -> float:
        return min(t.timestamp for t in self.turns)

    @property
    def last_seen(self) -> float:
        return max(t.timestamp for t in self.turns)

    def row(self, min_confidence: float) -> Dict[str, str]:
        outcomes = [
            "low_confidence" if low_confidence(t, min_confidence) else t.outcome for t in self.turns
        ]
        return {
            "text": self.text,
            "language": self._most_common([t.language for t in self.turns]),
            "outcome": self._most_common(outcomes),
            "intent": self._most_common([t.intent for t in self.turns]),
            "confidence": f"{sum(t.guess_confidence for t in self.turns) / self.count:.2f}",
            "guessed_intent": self._most_common([t.guess for t in self.turns]),
            "count": str(self.count),
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
        }


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def group_unanswered(turns: Sequence[Turn], min_confidence: float) -> List[Group]:
    """Unanswered turns grouped (see module doc), largest group first."""
    by_key: Dict[str, Group] = {}
    for turn in sorted(turns, key=lambda t: t.timestamp):
        if not is_unanswered(turn, min_confidence):
            continue
        key = fold(turn.text)
        by_key.setdefault(key, Group(key)).turns.append(turn)
    # Fuzzy merge: bigger groups first, so a typo joins the common wording and not the reverse.
    ordered = sorted(by_key.values(), key=lambda g: (-g.count, g.first_seen, g.key))
    merged: List[Group] = []
    long_keys: List[str] = []
    long_groups: List[Group] = []
    for group in ordered:
        if len(group.key) >= FUZZY_MIN_LENGTH and long_keys:
            match = process.extractOne(
                group.key, long_keys, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_SCORE
            )
            if match is not None:
                long_groups[match[2]].turns.extend(group.turns)
                continue
        merged.append(group)
        if len(group.key) >= FUZZY_MIN_LENGTH:
            long_keys.append(group.key)
            long_groups.append(group)
    return sorted(merged, key=lambda g: (-g.count, -g.last_seen, g.text))


def csv_text(groups: Sequence[Group], min_confidence: float) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for group in groups:
        writer.writerow(group.row(min_confidence))
    return out.getvalue()


def _example(text: str) -> str:
    # "[phone](x)" or "[phone]{...}" would read as an entity annotation in Rasa's format.
    return text.replace("](", "] (").replace("]{", "] {").replace("][", "] [")


def nlu_text(groups: Sequence[Group], min_confidence: float, period: str) -> str:
    """A Rasa NLU training data file: each row's text under its guessed intent, one block per
    intent and language (the language tells which data/nlu/<language>/ folder it belongs to)."""
    blocks: Dict[tuple, List[str]] = {}
    for group in groups:
        row = group.row(min_confidence)
        key = (row["guessed_intent"] or "out_of_scope", row["language"] or "unknown")
        blocks.setdefault(key, []).append(row["text"])
    lines = [
        "# Messages the assistant did not answer well (make review, " + period + ").",
        "# Each is filed under the intent the classifier found most likely: check it, fix the",
        "# intent or delete the line, then move the examples into data/nlu/<language>/<topic>.yml.",
        'version: "3.1"',
        "nlu:" if blocks else "nlu: []",
    ]
    for intent, language in sorted(blocks):
        lines.append(f"# language: {language}")
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {_example(text)}" for text in blocks[(intent, language)])
    return "\n".join(lines) + "\n"
