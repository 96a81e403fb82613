"""What redaction costs the Rasa server per message: `python -m bench.redaction`.

Times `redact` over the NLU hold-out sentences (what people ask: few digits) and over messages
full of personal data (the tests' table), and over the worst case the guard lets through
(1000 characters of phone-like digits). Prints microseconds per message.
"""

from __future__ import annotations

import glob
import time
from pathlib import Path
from typing import List

import yaml

from privacy.redact import redact

ROOT = Path(__file__).resolve().parent.parent


def holdout() -> List[str]:
    sentences = []
    for path in sorted(glob.glob(str(ROOT / "tests" / "nlu_holdout" / "*.yml"))):
        for block in (yaml.safe_load(open(path, encoding="utf-8")) or {}).get("nlu") or []:
            sentences += [line[2:].strip() for line in (block.get("examples") or "").splitlines()
                          if line.startswith("- ")]
    return sentences


def per_message(messages: List[str], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for message in messages:
            redact(message)
    return (time.perf_counter() - start) / (rounds * len(messages)) * 1e6


def main() -> None:
    from tests.test_redaction import EMAILS, NUMBERS, PHONES

    personal = [message for message, _ in PHONES + EMAILS + NUMBERS]
    worst = [("06 12 34 56 78 et 1951, " * 45)[:1000]]
    redact("warm up 06 12 34 56 78")
    print(f"hold-out sentences ({len(holdout())}): {per_message(holdout(), 20):8.1f} µs/message")
    print(f"messages with personal data ({len(personal)}): {per_message(personal, 20):8.1f} µs/message")
    print(f"1000 characters of phone-like digits:   {per_message(worst, 5):8.1f} µs/message")


if __name__ == "__main__":
    main()
