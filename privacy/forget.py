"""Deletes one person's conversation on request: `make forget SENDER=<id>`.

    python -m privacy.forget SENDER [--endpoints endpoints.yml]

SENDER is the conversation id: the `sender` of REST calls, the web chat's session id (in the
browser's localStorage), the Telegram chat id, or `whatsapp:+<number>` for WhatsApp. Running
servers do not bring it back (privacy/retention.py). Exit status: 0 deleted or nothing to delete,
2 bad settings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from privacy.retention import forget
from privacy.store import StoreError, describe, open_engine


def main(argv: Optional[List[str]] = None) -> int:
    parse = argparse.ArgumentParser(prog="python -m privacy.forget", description=__doc__.split("\n")[0])
    parse.add_argument("sender", help="the conversation id (sender id) to delete")
    parse.add_argument("--endpoints", default="endpoints.yml", type=Path,
                       help="endpoints file whose tracker_store to use (default: endpoints.yml)")
    args = parse.parse_args(argv)
    if not args.sender.strip():
        print("forget: give the conversation id: make forget SENDER=<id>", file=sys.stderr)
        return 2
    try:
        engine = open_engine(args.endpoints)
    except StoreError as error:
        print(f"forget: {error}", file=sys.stderr)
        return 2
    events = forget(engine, args.sender)
    if events:
        print(f"Deleted the conversation {args.sender!r} ({events} events) from {describe(engine)}")
    else:
        print(f"No conversation {args.sender!r} in {describe(engine)}: nothing to delete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
