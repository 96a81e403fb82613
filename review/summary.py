"""What the review page shows, computed from the turns of the period."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from review.turns import Turn
from review.unanswered import low_confidence

SHARE_OUTCOMES = ("answered", "low_confidence", "small_talk", "not_understood", "out_of_scope", "no_answer")


def day_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")


def days_between(since: float, until: float) -> List[str]:
    first = datetime.fromtimestamp(since, timezone.utc).date()
    last = datetime.fromtimestamp(max(since, until - 1), timezone.utc).date()
    days = []
    while first <= last:
        days.append(first.isoformat())
        first += timedelta(days=1)
    return days


@dataclass
class Summary:
    days: List[str]
    messages: int = 0
    conversations: int = 0
    per_day: List[int] = field(default_factory=list)
    per_language: List[Tuple[str, int]] = field(default_factory=list)
    per_channel: List[Tuple[str, int]] = field(default_factory=list)
    per_topic: List[Tuple[str, int]] = field(default_factory=list)
    outcomes: Dict[str, int] = field(default_factory=dict)
    outcomes_per_day: Dict[str, List[int]] = field(default_factory=dict)
    clicks_after_answer: List[Tuple[str, int]] = field(default_factory=list)
    clicks: int = 0

    def share(self, *outcomes: str) -> float:
        return 100.0 * sum(self.outcomes.get(o, 0) for o in outcomes) / self.messages if self.messages else 0.0


def outcome_of(turn: Turn, min_confidence: float) -> str:
    return "low_confidence" if low_confidence(turn, min_confidence) else turn.outcome


def summarise(
    turns: Sequence[Turn], since: float, until: float, min_confidence: float,
    topic_title: Optional[Callable[[str], str]] = None,
) -> Summary:
    days = days_between(since, until)
    index = {day: i for i, day in enumerate(days)}
    summary = Summary(days=days, messages=len(turns))
    summary.conversations = len({t.sender for t in turns})
    per_day = [0] * len(days)
    per_outcome_day = {o: [0] * len(days) for o in SHARE_OUTCOMES}
    outcomes: Counter = Counter()
    topics: Counter = Counter()
    clicks: Counter = Counter()
    titles: Dict[str, Counter] = defaultdict(Counter)
    for turn in turns:
        day = index.get(day_of(turn.timestamp))
        outcome = outcome_of(turn, min_confidence)
        outcomes[outcome] += 1
        if day is not None:
            per_day[day] += 1
            per_outcome_day[outcome][day] += 1
        if turn.outcome == "answered" and turn.topic:
            topics[turn.topic] += 1
        if turn.click:
            summary.clicks += 1
            if turn.after_answer:
                payload, title = turn.click
                clicks[payload] += 1
                if title:
                    titles[payload][title] += 1
    summary.per_day = per_day
    summary.outcomes = {o: outcomes.get(o, 0) for o in SHARE_OUTCOMES}
    summary.outcomes_per_day = per_outcome_day
    summary.per_language = _ranked(Counter(t.language or "unknown" for t in turns))
    summary.per_channel = _ranked(Counter(t.channel or "unknown" for t in turns))
    name = topic_title or (lambda topic: topic)
    summary.per_topic = [(name(topic), count) for topic, count in _ranked(topics)]
    summary.clicks_after_answer = [
        (_click_label(payload, titles.get(payload)), count) for payload, count in _ranked(clicks)
    ]
    return summary


def _ranked(counter: Counter, limit: int = 25) -> List[Tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]


def _click_label(payload: str, titles: Optional[Counter]) -> str:
    if titles:
        title = sorted(titles.items(), key=lambda item: (-item[1], item[0]))[0][0]
        return f"{title} ({payload})"
    return payload
