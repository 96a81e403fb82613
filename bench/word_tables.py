"""The word tables measured where they were tuned and where they never were: `python -m bench.word_tables`.

Two hand-written tables decide what a classifier does not: the common-word vote of the language
detection (actions/language.py, for messages Lingua is unsure of) and the country finder's rules for
names that are also ordinary words (components/country_words.yml `common_words`, read by
components/countries.py). Each was written while looking at a set of examples, so its figure on that
set (development) says little about new messages. Each is therefore also measured on a blind set
written after the tables existed, by someone who never opened them (tests/blind/, see the headers).

- Language (actions/language.detect_language, Lingua's full models as the action server uses them,
  and the light ones as the Rasa server's notices do):
  - development: the messages of tests/test_language.py, the ones the vote words were written with
    (clear messages, the short Spanish ones from a French and an English conversation, ambiguous
    ones from each language's conversation);
  - tests/short_messages/: issue 20's development set of short messages (reported apart: other
    engineers may tune on it);
  - blind: tests/blind/language.yml.
  An item that gives the conversation's language (`conversation`) is said in that conversation;
  an item without one must be answered in its language from a conversation in either other
  language (the text alone must tell).
- Countries (components/countries.find_countries, the NLU component's matching):
  - development: tests/tempting_countries.yml (the set the common-word rules mirror): right when
    no country is found where none may be, or every country found is one the item allows;
  - blind: tests/blind/countries.yml: right when the countries found are exactly the item's.

Prints counts per language and in all. Never tune a table on the blind sets: this script prints no
blind item unless asked (`--show-blind-misses`, for reviewing after a change, never before one).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.language import SUPPORTED, detect_language  # noqa: E402
from components.countries import find_countries  # noqa: E402
from tests.test_language import AMBIGUOUS, CLEAR, SHORT_SPANISH  # noqa: E402

TESTS = ROOT / "tests"
# (text, language of the conversation before or None: the text must tell, expected language)
LanguageItem = Tuple[str, Optional[str], str]


def read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- language ------------------------------------------------------------------------------


def development_language_items() -> Dict[str, List[LanguageItem]]:
    items: Dict[str, List[LanguageItem]] = {lang: [] for lang in SUPPORTED}
    for text, previous, expected in CLEAR:
        items[expected].append((text, previous, expected))
    for text in SHORT_SPANISH:
        items["es"] += [(text, previous, "es") for previous in ("fr", "en")]
    for text in AMBIGUOUS:
        for previous in SUPPORTED:
            items[previous].append((text, previous, previous))
    return items


def short_message_items() -> Dict[str, List[LanguageItem]]:
    items: Dict[str, List[LanguageItem]] = {lang: [] for lang in SUPPORTED}
    for path in sorted((TESTS / "short_messages").glob("*.yml")):
        for item in read(path):
            items[item["reply_language"]].append(
                (item["text"], item.get("conversation"), item["reply_language"]))
    return items


def blind_language_items() -> Dict[str, List[LanguageItem]]:
    items: Dict[str, List[LanguageItem]] = {lang: [] for lang in SUPPORTED}
    for lang, entries in read(TESTS / "blind" / "language.yml").items():
        for item in entries:
            items[item["expected"]].append((item["text"], item.get("conversation"), item["expected"]))
    return items


def language_right(item: LanguageItem, light: bool) -> bool:
    text, conversation, expected = item
    if conversation:
        return detect_language(text, conversation, light=light) == expected
    return all(detect_language(text, other, light=light) == expected
               for other in SUPPORTED if other != expected)


# --- countries -----------------------------------------------------------------------------


def codes(text: str) -> set:
    return {found["value"] for found in find_countries(text)}


def tempting_right(case: Dict[str, Any]) -> bool:
    expected = case.get("country")
    allowed = set(expected) if isinstance(expected, list) else {expected}
    found = codes(case["text"])
    return (None in allowed) if not found else found <= allowed - {None}


def blind_country_verdict(item: Dict[str, Any]) -> str:
    """'right', 'missed' (a meant country not found), 'extra' (a country found that was not
    meant) or 'both'."""
    found, meant = codes(item["text"]), set(item.get("countries") or [])
    missed, extra = bool(meant - found), bool(found - meant)
    return "both" if missed and extra else "missed" if missed else "extra" if extra else "right"


# --- report --------------------------------------------------------------------------------


def line(label: str, counts: Iterable[Tuple[str, int, int]]) -> str:
    counts = list(counts)
    right, total = sum(c[1] for c in counts), sum(c[2] for c in counts)
    parts = "  ".join(f"{lang} {r}/{t}" for lang, r, t in counts)
    return f"  {label:44} {parts}  all {right}/{total} = {right / max(total, 1):.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show-misses", action="store_true",
                        help="list the development sets' misses")
    parser.add_argument("--show-blind-misses", action="store_true",
                        help="list the blind sets' misses (never to tune the tables on)")
    args = parser.parse_args()

    print("Reply language (actions/language.py): right / items")
    sets = (("development (tests/test_language.py)", development_language_items(), args.show_misses),
            ("issue 20 development (tests/short_messages/)", short_message_items(), args.show_misses),
            ("blind (tests/blind/language.yml)", blind_language_items(), args.show_blind_misses))
    for light in (False, True):
        print(f" Lingua {'light' if light else 'full'} models:")
        for label, items, show in sets:
            counts = []
            for lang in SUPPORTED:
                verdicts = [(item, language_right(item, light)) for item in items[lang]]
                counts.append((lang, sum(ok for _, ok in verdicts), len(verdicts)))
                if show and not light:
                    for (text, conversation, expected), ok in verdicts:
                        if not ok:
                            print(f"    miss [{expected}, conversation {conversation or 'other'}] {text!r}")
            print(line(label, counts))

    print("Countries named (components/countries.py): right / items")
    tempting = read(TESTS / "tempting_countries.yml")
    counts = []
    for lang in SUPPORTED:
        verdicts = [(case, tempting_right(case)) for case in tempting.get(lang, [])]
        counts.append((lang, sum(ok for _, ok in verdicts), len(verdicts)))
        if args.show_misses:
            for case, ok in verdicts:
                if not ok:
                    print(f"    miss [{lang}] {case['text']!r}: found {sorted(codes(case['text']))}, "
                          f"allowed {case.get('country')}")
    print(line("development (tests/tempting_countries.yml)", counts))
    blind = read(TESTS / "blind" / "countries.yml")
    counts, kinds = [], {"missed": 0, "extra": 0, "both": 0}
    for lang in SUPPORTED:
        verdicts = [(item, blind_country_verdict(item)) for item in blind.get(lang, [])]
        counts.append((lang, sum(v == "right" for _, v in verdicts), len(verdicts)))
        for item, verdict in verdicts:
            if verdict != "right":
                kinds[verdict] += 1
                if args.show_blind_misses:
                    print(f"    {verdict} [{lang}] {item['text']!r}: found {sorted(codes(item['text']))}, "
                          f"meant {sorted(item.get('countries') or [])}")
    print(line("blind (tests/blind/countries.yml)", counts))
    print(f"  blind misses by kind: a meant country not found {kinds['missed']}, a country found "
          f"that was not meant {kinds['extra']}, both {kinds['both']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
