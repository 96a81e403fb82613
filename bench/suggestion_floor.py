"""How reliable is a topic the classifier ranked low? Measures actions/understanding.py SUGGESTION_FLOOR.

When a message is not understood (top intent under the fallback threshold), the reply offers as
buttons the topics the classifier ranked highest, each at or above a floor. Whole hold-out
sentences (tests/nlu_holdout/) are rarely unsure, so this script also parses damaged copies of
each (the first or last half of its words, every other word, two letters swapped in its longest
word), the kind of message
that does fall back, and keeps the unsure ones (nlu_fallback) whose right answer is a topic. For
each ranked topic a button could offer (`suggestion_topic`) it counts, per confidence band, how
often it is the right one; and for a few floors, how often the right topic is among the buttons,
how many buttons there are and how many replies get no suggestion (starter topics instead).
Prints tables; docs/testing.md, "When unsure, suggest", quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(ROOT))

from actions.answers import STARTER_TOPICS  # noqa: E402
from actions.understanding import (  # noqa: E402
    FALLBACK_THRESHOLD,
    suggested_topics,
    suggestion_topic,
)
from tests.tools.evaluate_holdout import holdout_files, load_examples  # noqa: E402

BANDS = (0.0, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2, FALLBACK_THRESHOLD)
FLOORS = (0.02, 0.05, 0.08, 0.1, 0.15)


def damaged(text: str):
    """The first half of the words, the last half, every other word, and the longest word with
    two letters swapped."""
    words = text.split()
    if len(words) >= 2:
        yield " ".join(words[: len(words) // 2])
        yield " ".join(words[len(words) // 2 :])
    if len(words) >= 4:
        yield " ".join(words[::2])
    longest = max(words, key=len, default="")
    if len(longest) >= 4:
        middle = len(longest) // 2
        swapped = longest[: middle - 1] + longest[middle] + longest[middle - 1] + longest[middle + 1 :]
        yield text.replace(longest, swapped, 1)


async def parse_all(model: str):
    import skops.io  # noqa: F401  (before Rasa, as server/rasa_cli.py does)
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    rows = []
    for lang, paths in sorted(holdout_files().items()):
        for path in paths:
            for text, expected in load_examples(path):
                for variant in (text, *damaged(text)):
                    parsed = await agent.parse_message(variant)
                    rows.append((lang, variant, expected, parsed))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "iom.tar.gz"))
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    rows = asyncio.run(parse_all(args.model))

    unsure = [
        (expected, parsed) for _, _, expected, parsed in rows
        if parsed["intent"]["name"] == "nlu_fallback" and suggestion_topic(expected, parsed["entities"])
    ]
    print(f"{len(rows)} messages parsed (hold-out sentences and damaged copies); "
          f"{len(unsure)} unsure (nlu_fallback) with a topic as the right answer.")
    counts = {band: [0, 0] for band in BANDS[:-1]}
    for expected, parsed in unsure:
        right = suggestion_topic(expected, parsed["entities"])
        for candidate in parsed["intent_ranking"]:
            topic = suggestion_topic(candidate["name"], parsed["entities"])
            if topic is None:
                continue
            band = max(b for b in BANDS[:-1] if candidate["confidence"] >= b)
            counts[band][0] += 1
            counts[band][1] += topic == right
    print("\n| confidence of a ranked topic | topics | the right one | share right |")
    print("|---|---:|---:|---:|")
    for low, high in zip(BANDS, BANDS[1:]):
        total, right = counts[low]
        share = f"{right / total:.0%}" if total else "-"
        print(f"| {low:.2f}-{high:.2f} | {total} | {right} | {share} |")
    print("\n| floor | right topic among the buttons | buttons per reply | share of buttons right | no suggestion |")
    print("|---:|---:|---:|---:|---:|")
    for floor in FLOORS:
        hits = buttons = empty = 0
        for expected, parsed in unsure:
            topics = suggested_topics(parsed["intent_ranking"], parsed["entities"], floor=floor)
            hits += suggestion_topic(expected, parsed["entities"]) in topics
            buttons += len(topics)
            empty += not topics
        n = len(unsure) or 1
        print(f"| {floor:.2f} | {hits}/{len(unsure)} ({hits / n:.0%}) | {buttons / n:.1f} | "
              f"{hits / (buttons or 1):.0%} | {empty} |")
    starters = sum(suggestion_topic(e, p["entities"]) in STARTER_TOPICS for e, p in unsure)
    n = len(unsure) or 1
    print(f"| starter topics only | {starters}/{len(unsure)} ({starters / n:.0%}) | {len(STARTER_TOPICS)} | "
          f"{starters / (n * len(STARTER_TOPICS)):.0%} | - |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
