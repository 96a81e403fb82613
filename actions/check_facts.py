"""`make check-facts`: is the facts file valid, and which facts are old enough to check again?

    python -m actions.check_facts [--max-age-months N] [--facts facts/facts.yml] [--states facts/states.tsv]

Fails (exit status 1) on an invalid facts file or states list, naming the key and the problem;
every fact must have an `as_of` date and a source in each language. Facts whose `as_of` is older
than N months (default 12, or FACTS_MAX_AGE_MONTHS) are listed "to re-check" with their source
pages; that list is advice for the editor, not a failure (exit status 0).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import List, Optional

from actions.facts import (
    DEFAULT_FACTS_PATH, DEFAULT_STATES_PATH, LANGUAGES, PROJECT_ROOT, Facts, FactsError, load_facts,
)
from actions.fact_dates import DEFAULT_MAX_AGE_MONTHS, ToRecheck, parse_max_age, to_recheck

MAX_AGE_VARIABLE = "FACTS_MAX_AGE_MONTHS"


def undated_or_unsourced(facts: Facts) -> List[str]:
    """Facts without an `as_of` or without a source in some language (the schema forbids both; this
    says so in the editor's words should the schema ever be loosened)."""
    problems = []
    for fact_id in facts.fact_ids:
        if not facts.fact(fact_id).get("as_of"):
            problems.append(f"{fact_id}: no as_of date")
        for lang in LANGUAGES:
            if not facts.sources(fact_id, lang):
                problems.append(f"{fact_id}: no source for answers in {lang}")
    return problems


def recheck_lines(entries: List[ToRecheck], max_age_months: int, today: date) -> List[str]:
    """The "to re-check" list as printed (and shown in the review report)."""
    if not entries:
        return [f"No fact is older than {max_age_months} months on {today.isoformat()}."]
    lines = [f"To re-check: {len(entries)} dated more than {max_age_months} months before {today.isoformat()}"]
    for entry in entries:
        lines.append(f"  {entry.key}: as of {entry.as_of} ({entry.months} months old)")
        lines += [f"      {url}" for url in entry.sources]
    return lines


def _shown(path: Path) -> str:
    """The path as the editor knows it: relative to the project where it is inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _max_age(text: str) -> int:
    try:
        return parse_max_age(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Optional[List[str]] = None, today: Optional[date] = None) -> int:
    parse = argparse.ArgumentParser(prog="python -m actions.check_facts", description=__doc__.split("\n")[0])
    parse.add_argument("--max-age-months", type=_max_age, default=None,
                       help=f"list facts older than this (default {MAX_AGE_VARIABLE} or {DEFAULT_MAX_AGE_MONTHS})")
    parse.add_argument("--facts", type=Path, default=DEFAULT_FACTS_PATH)
    parse.add_argument("--states", type=Path, default=DEFAULT_STATES_PATH)
    args = parse.parse_args(argv)
    if args.max_age_months is None:
        try:
            args.max_age_months = parse_max_age(os.environ.get(MAX_AGE_VARIABLE))
        except ValueError as error:
            print(f"check-facts: {MAX_AGE_VARIABLE}: {error}", file=sys.stderr)
            return 2
    try:
        facts = load_facts(args.facts, args.states)
    except FactsError as error:
        print(f"check-facts: {error}", file=sys.stderr)
        return 1
    problems = undated_or_unsourced(facts)
    if problems:
        for problem in problems:
            print(f"check-facts: {_shown(args.facts)}: {problem}", file=sys.stderr)
        return 1
    print(f"{_shown(args.facts)} is valid: {len(facts.fact_ids)} facts")
    print(f"{_shown(args.states)} is valid: {len(facts.states.members)} Member States, {len(facts.states.observers)} Observer States")
    today = today or date.today()
    print("\n".join(recheck_lines(to_recheck(facts.data, today, args.max_age_months), args.max_age_months, today)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
