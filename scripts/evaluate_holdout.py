"""Intent accuracy of the trained model on the hold-out sets (tests/nlu_holdout/<lang>.yml).

These sentences are never used for training. A language's sentences may be split over several
files (`fr.yml`, `fr.countries.yml`...): all count for `fr`, the part of the name before the first
dot. Prints accuracy per language and the misclassified sentences; exits 1 when a language is
under --min-accuracy, so CI fails on a regression.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(ROOT))


def load_examples(path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield line[2:].strip(), block["intent"]


async def evaluate(model: str, folder: Path):
    import perf

    perf.install(server=False)  # skops' trusted types, as perf/rasa_cli.py: loads the model faster
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    by_language = {}
    for path in sorted(folder.glob("*.yml")):
        by_language.setdefault(path.name.split(".")[0], []).append(path)
    results = {}
    for lang, paths in sorted(by_language.items()):
        rows = []
        for text, expected in (example for path in paths for example in load_examples(path)):
            parsed = await agent.parse_message(text)
            predicted = parsed["intent"]["name"]
            rows.append({"text": text, "expected": expected, "predicted": predicted,
                         "confidence": round(parsed["intent"]["confidence"], 3)})
        correct = sum(r["expected"] == r["predicted"] for r in rows)
        results[lang] = {"accuracy": correct / len(rows), "total": len(rows), "correct": correct,
                         "errors": [r for r in rows if r["expected"] != r["predicted"]]}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "iom.tar.gz"))
    parser.add_argument("--data", default=str(ROOT / "tests" / "nlu_holdout"))
    parser.add_argument("--min-accuracy", type=float, default=0.90)
    parser.add_argument("--out", default=str(ROOT / "results" / "holdout.json"))
    parser.add_argument("--quiet", action="store_true", help="only the summary lines")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import structlog  # Rasa logs every parse at debug level through structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    results = asyncio.run(evaluate(args.model, Path(args.data)))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=1))
    failed = False
    for lang, result in results.items():
        if not args.quiet:
            for error in result["errors"]:
                print(f"  [{lang}] {error['text']!r}: expected {error['expected']}, "
                      f"got {error['predicted']} ({error['confidence']})")
        status = "ok" if result["accuracy"] >= args.min_accuracy else "TOO LOW"
        failed |= status != "ok"
        print(f"hold-out intent accuracy [{lang}]: {result['accuracy']:.3f} "
              f"({result['correct']}/{result['total']}) - {status} (minimum {args.min_accuracy})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
