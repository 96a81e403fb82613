"""Intent accuracy of the trained model on the hold-out sets (tests/nlu_holdout/<lang>.yml).

These sentences are never used for training: no hold-out sentence may equal an example of any
file under data/ once case, accents, punctuation, spaces and entity markup are folded away
(`fold`), nor use the same words in another order (`copy_keys`); the script refuses to give a
figure while one does (tests/test_nlu_data.py checks the same without a model). A language's sentences may be split over several files (`fr.yml`,
`fr.countries.yml`...): all count for `fr`, the part of the name before the first dot. Prints
accuracy per language, the misclassified sentences and the confusions (expected -> predicted:
count); exits 1 when a language is under --min-accuracy, so CI fails on a regression.

The public-phrasing set (tests/nlu_public/<lang>.yml: long messages with context, typos,
questions to "you", issue 20) is scored in the same run and reported apart, with its own floor
(--public-min-accuracy, 0.85) and its own results file (<out>_public.json); the same copy rule
holds for it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(ROOT))


TRAINING_DATA = ROOT / "data"
HOLDOUT = ROOT / "tests" / "nlu_holdout"
PUBLIC = ROOT / "tests" / "nlu_public"
# [text](entity), [text]{"entity": ...}: the annotated text stays, the markup goes.
_ENTITY_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def _folded_chars(text: str) -> str:
    text = unicodedata.normalize("NFKD", _ENTITY_MARKUP.sub(r"\1", text).casefold())
    return "".join(c if c.isalnum() else " " for c in text if not unicodedata.combining(c))


def fold(text: str) -> str:
    """The sentence with case, accents, entity markup, punctuation and spaces folded away:
    "Who are IOM?", "who are [IOM](org)" and "WHO ARE IOM" all fold to "whoareiom"."""
    return "".join(_folded_chars(text).split())


def copy_keys(text: str) -> Tuple[str, str]:
    """What makes two sentences copies of each other: the same folded text, or the same words
    in another order ("migrants and covid" / "covid and migrants")."""
    return fold(text), "~" + " ".join(sorted(_folded_chars(text).split()))


def example_lines(examples) -> Iterator[str]:
    """The sentences of an NLU block's `examples` (a `- ` list in one string, or a list)."""
    if isinstance(examples, str):
        for line in examples.splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield line[2:].strip()
    elif isinstance(examples, list):  # examples given as a list of {text: ...}
        for item in examples:
            text = item.get("text") if isinstance(item, dict) else item
            if isinstance(text, str):
                yield text.strip()


def load_examples(path: Path) -> Iterator[Tuple[str, str]]:
    """(sentence, intent) of an NLU file's intent blocks."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for block in data["nlu"]:
        for text in example_lines(block["examples"]):
            yield text, block["intent"]


def training_sentences(folder: Path = TRAINING_DATA) -> Dict[str, Tuple[str, Path]]:
    """Every sentence of every YAML file under data/, by its folded form: examples of intents,
    lookup tables, synonyms and regexes, and the user turns of stories and rules."""
    found: Dict[str, Tuple[str, Path]] = {}
    for path in sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml")]):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        texts: List[str] = []
        for block in data.get("nlu") or []:
            texts += example_lines(block.get("examples"))
        for key in ("stories", "rules"):
            for story in data.get(key) or []:
                texts += [step["user"] for step in story.get("steps") or [] if "user" in step]
        for text in texts:
            for key in copy_keys(text):
                found.setdefault(key, (text, path))
    return found


def holdout_files(folder: Path = HOLDOUT) -> Dict[str, List[Path]]:
    """Hold-out files by language: `fr.yml` and `fr.<part>.yml` are all `fr`."""
    by_language: Dict[str, List[Path]] = {}
    for path in sorted(folder.glob("*.yml")):
        by_language.setdefault(path.name.split(".")[0], []).append(path)
    return by_language


def overlaps(sentences: Iterable[Tuple[str, Path]], training: Dict[str, Tuple[str, Path]]):
    """(sentence, its file, the training sentence it copies, that file) for each sentence that
    copies a training sentence (`copy_keys`)."""
    found = []
    for text, path in sentences:
        key = next((k for k in copy_keys(text) if k in training), None)
        if key is not None:
            found.append((text, path, *training[key]))
    return found


def holdout_overlaps(folder: Path = HOLDOUT, training_folder: Path = TRAINING_DATA):
    training = training_sentences(training_folder)
    sentences = [
        (text, path)
        for paths in holdout_files(folder).values()
        for path in paths
        for text, _ in load_examples(path)
    ]
    return overlaps(sentences, training)


async def load_agent(model: str):
    import server

    server.install(server=False)  # skops' trusted types, as server/rasa_cli.py: loads the model faster
    from rasa.core.agent import Agent

    return Agent.load(model)


async def evaluate(model: str, folder: Path, agent=None):
    agent = agent or await load_agent(model)
    results = {}
    for lang, paths in sorted(holdout_files(folder).items()):
        rows = []
        for text, expected in (example for path in paths for example in load_examples(path)):
            parsed = await agent.parse_message(text)
            predicted = parsed["intent"]["name"]
            rows.append({"text": text, "expected": expected, "predicted": predicted,
                         "confidence": round(parsed["intent"]["confidence"], 3)})
        correct = sum(r["expected"] == r["predicted"] for r in rows)
        errors = [r for r in rows if r["expected"] != r["predicted"]]
        confusions = Counter(f"{r['expected']} -> {r['predicted']}" for r in errors)
        results[lang] = {"accuracy": correct / len(rows), "total": len(rows), "correct": correct,
                         "confusions": dict(confusions.most_common()), "errors": errors}
    return results


def _relative(path: Path) -> str:
    return os.path.relpath(Path(path).resolve(), ROOT)


def _report(name: str, results: Dict, min_accuracy: float, quiet: bool) -> bool:
    """Prints one set's figures; True when every language is at or above `min_accuracy`."""
    ok = True
    for lang, result in results.items():
        if not quiet:
            for error in result["errors"]:
                print(f"  [{lang}] {error['text']!r}: expected {error['expected']}, "
                      f"got {error['predicted']} ({error['confidence']})")
            confusions = ", ".join(f"{k}: {v}" for k, v in result["confusions"].items())
            print(f"  [{lang}] confusions: {confusions or 'none'}")
        status = "ok" if result["accuracy"] >= min_accuracy else "TOO LOW"
        ok &= status == "ok"
        print(f"{name} intent accuracy [{lang}]: {result['accuracy']:.3f} "
              f"({result['correct']}/{result['total']}) - {status} (minimum {min_accuracy})")
    return ok


async def _evaluate_sets(model: str, sets):
    agent = await load_agent(model)
    return [await evaluate(model, folder, agent) for folder in sets]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "iom.tar.gz"))
    parser.add_argument("--data", default=str(HOLDOUT))
    parser.add_argument("--min-accuracy", type=float, default=0.90)
    parser.add_argument("--public-data", default=str(PUBLIC),
                        help="public-phrasing set, reported apart ('' to skip)")
    parser.add_argument("--public-min-accuracy", type=float, default=0.85)
    parser.add_argument("--out", default=str(ROOT / "results" / "holdout.json"))
    parser.add_argument("--quiet", action="store_true", help="only the summary lines")
    args = parser.parse_args()
    sets = [Path(args.data)]
    if args.public_data and Path(args.public_data).is_dir():
        sets.append(Path(args.public_data))
    copied = [found for folder in sets for found in holdout_overlaps(folder)]
    if copied:
        for text, path, train_text, train_path in copied:
            print(f"  {_relative(path)}: {text!r} equals {train_text!r} ({_relative(train_path)})")
        print(f"{len(copied)} hold-out sentence(s) equal training examples: no honest figure")
        return 1
    logging.disable(logging.WARNING)
    import structlog  # Rasa logs every parse at debug level through structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    all_results = asyncio.run(_evaluate_sets(args.model, sets))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = True
    for index, results in enumerate(all_results):
        public = index == 1
        path = out.with_name(f"{out.stem}_public{out.suffix}") if public else out
        path.write_text(json.dumps(results, ensure_ascii=False, indent=1))
        if public:
            ok &= _report("public-phrasing", results, args.public_min_accuracy, args.quiet)
        else:
            ok &= _report("hold-out", results, args.min_accuracy, args.quiet)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
