"""Deletes the conversations older than IOM_RETENTION_DAYS (default 90): `make purge`.

    python -m privacy.purge [--endpoints endpoints.yml] [--days N] [--dry-run] [--interval SECONDS]

`--interval 86400` keeps running and purges once a day: scripts/run.sh and run_scaled.sh start it
next to the servers (log: run/purge.log); deploy/helm/values.yml runs the one-shot form as a
Kubernetes CronJob. Exit status: 0 done, 2 bad settings (unknown store, bad IOM_RETENTION_DAYS).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Optional

from privacy.retention import RETENTION_ENV, RetentionError, old_senders, purge, retention_days
from privacy.store import StoreError, describe, open_engine


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="python -m privacy.purge", description=__doc__.split("\n")[0])
    parse.add_argument("--endpoints", default="endpoints.yml", type=Path,
                       help="endpoints file whose tracker_store to purge (default: endpoints.yml)")
    parse.add_argument("--days", type=str, default=None,
                       help=f"keep conversations active in the last N days (default: ${RETENTION_ENV} or 90)")
    parse.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    parse.add_argument("--interval", type=float, default=None, metavar="SECONDS",
                       help="keep running: purge every SECONDS (86400 = daily), first after SECONDS")
    return parse


def run_once(engine, days: float, dry_run: bool) -> str:
    if dry_run:
        return (f"{_now()} Would delete {len(old_senders(engine, days))} conversation(s) with no "
                f"message in the last {days:g} days from {describe(engine)}")
    deleted = purge(engine, days)
    return (f"{_now()} Deleted {deleted.conversations} conversation(s) ({deleted.events} events) "
            f"with no message in the last {days:g} days from {describe(engine)}")


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        days = retention_days(args.days)
        engine = open_engine(args.endpoints)
    except (RetentionError, StoreError) as error:
        print(f"purge: {error}", file=sys.stderr)
        return 2
    if args.interval is None:
        print(run_once(engine, days, args.dry_run), flush=True)
        return 0
    if args.interval <= 0:
        print("purge: --interval must be a positive number of seconds", file=sys.stderr)
        return 2
    print(f"{_now()} Purging conversations older than {days:g} days every {args.interval:g} s "
          f"from {describe(engine)}", flush=True)
    while True:
        time.sleep(args.interval)
        try:
            print(run_once(engine, days, args.dry_run), flush=True)
        except Exception as error:  # the database may be down for a while: try again next time
            print(f"{_now()} Purge failed, will try again: {error!r}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
