"""Writes the review of a period's conversations: `make review`.

    python -m review [--endpoints endpoints.yml] [--days 7 | --since YYYY-MM-DD] [--until YYYY-MM-DD]
                     [--out reports] [--min-confidence 0.5]

Reads the tracker store of the endpoints file (SQLite `tracker.db` by default; PostgreSQL with
deploy/endpoints.yml and the DB_* variables) and writes into --out:
- review.html: charts of the period (one page, opens from disk);
- unanswered.csv: messages not understood, out of scope, or answered with low confidence;
- unanswered_nlu.yml: the same as Rasa NLU data, each under its guessed intent.
review.html also lists the facts to re-check (dated more than --max-age-months ago, default
FACTS_MAX_AGE_MONTHS or 12), as `make check-facts` does.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, List, Optional, Set

from privacy.store import StoreError, describe, open_engine
from review.page import recheck_section, render
from review.summary import summarise
from review.turns import read_turns
from review.unanswered import csv_text, group_unanswered, nlu_text


def _date(text: str) -> float:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _facts_texts(max_age_months: int) -> tuple[Set[str], Callable[[str], str], str]:
    """The not-understood replies in every language, a topic's English title (so the review
    recognises replies even when the intent was corrected) and the facts to re-check, from the
    facts file."""
    try:
        from actions.fact_dates import to_recheck
        from actions.facts import load_facts

        facts = load_facts()
    except Exception as error:  # the review still works without them
        print(f"review: facts file not read ({error}); topics shown by id", file=sys.stderr)
        return set(), lambda topic: topic, ""
    texts = set()
    for lang in ("fr", "en", "es"):
        try:
            texts.add(facts.message("not_understood", lang))
        except (KeyError, IndexError, ValueError):
            pass

    def title(topic: str) -> str:
        try:
            return f"{facts.text(topic, 'title', 'en')} ({topic})"
        except (KeyError, TypeError):
            return topic

    today = date.today()
    recheck = to_recheck(facts.data, today, max_age_months)
    print(f"{len(recheck)} facts to re-check (dated more than {max_age_months} months ago): see review.html")
    return texts, title, recheck_section(recheck, max_age_months, today, title)


def _months(text: str) -> int:
    from actions.fact_dates import parse_max_age

    try:
        return parse_max_age(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="python -m review", description=__doc__.split("\n")[0])
    parse.add_argument("--endpoints", default="endpoints.yml", type=Path)
    period = parse.add_mutually_exclusive_group()
    period.add_argument("--days", type=float, default=None, help="the last N days (default 7)")
    period.add_argument("--since", type=_date, default=None, help="from this day (UTC), YYYY-MM-DD")
    parse.add_argument("--until", type=_date, default=None, help="up to this day, excluded (default: now)")
    parse.add_argument("--out", type=Path, default=Path("reports"))
    parse.add_argument("--min-confidence", type=float, default=0.5,
                       help="answers below this classifier confidence are listed (default 0.5)")
    parse.add_argument("--max-age-months", type=_months, default=os.environ.get("FACTS_MAX_AGE_MONTHS", ""),
                       help="facts dated more than this are listed to re-check (default FACTS_MAX_AGE_MONTHS or 12)")
    return parse


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    until = args.until if args.until is not None else time.time()
    if args.since is not None:
        since = args.since
    else:
        days = 7.0 if args.days is None else args.days
        if days <= 0:
            print("review: --days must be positive", file=sys.stderr)
            return 2
        since = until - days * 86400
    if since >= until:
        print("review: the period is empty (--since is not before --until)", file=sys.stderr)
        return 2
    try:
        engine = open_engine(args.endpoints)
    except StoreError as error:
        print(f"review: {error}", file=sys.stderr)
        return 2
    not_understood, title, recheck = _facts_texts(args.max_age_months)
    turns = read_turns(engine, since, until, not_understood)
    groups = group_unanswered(turns, args.min_confidence)
    summary = summarise(turns, since, until, args.min_confidence, title)

    def day(ts: float) -> str:
        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    period = f"{day(since)} to {day(until)}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "unanswered.csv").write_text(csv_text(groups, args.min_confidence), encoding="utf-8")
    (args.out / "unanswered_nlu.yml").write_text(nlu_text(groups, args.min_confidence, period), encoding="utf-8")
    page = render(summary, groups, args.min_confidence, period, describe(engine), day(time.time()), recheck)
    (args.out / "review.html").write_text(page, encoding="utf-8")
    print(f"Review of {period}: {summary.messages} messages in {summary.conversations} conversations, "
          f"{len(groups)} distinct messages not answered well.")
    for name in ("review.html", "unanswered.csv", "unanswered_nlu.yml"):
        print(f"  {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
