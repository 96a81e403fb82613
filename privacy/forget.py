"""Deletes one person's conversation on request: `make forget SENDER=<id>`.

    python -m privacy.forget SENDER [--endpoints endpoints.yml]

SENDER is what the person or the operator knows:
- WhatsApp: the person's number, `whatsapp:+33612345678`, `+33612345678` or `+33 6 12 34 56 78`;
- Telegram: the chat id (`123456789`, or `telegram:123456789`);
- any other conversation id as it is stored: the `sender` of REST calls, the web chat's session
  id (in the browser's localStorage), or a pseudonym (`wa-...`, `tg-...`).

WhatsApp and Telegram conversations are stored under a keyed pseudonym of the number or chat id
(privacy/pseudonym.py), so the tool computes it with the servers' key: run it with the same
IOM_SENDER_KEY (or, without it, TWILIO_AUTH_TOKEN / TELEGRAM_TOKEN) as the Rasa servers. It also
deletes a conversation stored under the raw number or chat id (from before pseudonyms). Running
servers do not bring it back (privacy/retention.py). Exit status: 0 deleted or nothing to delete,
2 bad settings (including no key to compute a WhatsApp or Telegram pseudonym with).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from privacy.pseudonym import candidates
from privacy.retention import forget
from privacy.store import StoreError, describe, open_engine


def main(argv: Optional[List[str]] = None) -> int:
    parse = argparse.ArgumentParser(prog="python -m privacy.forget", description=__doc__.split("\n")[0])
    parse.add_argument("sender", help="a WhatsApp number, a Telegram chat id, or a conversation id")
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
    channel, conversation_ids, missing = candidates(args.sender)
    whose = f"{channel} {args.sender.strip()!r}" if channel else repr(args.sender.strip())
    deleted = {sender_id: forget(engine, sender_id) for sender_id in conversation_ids}
    found = {sender_id: events for sender_id, events in deleted.items() if events}
    for sender_id, events in found.items():
        print(f"Deleted the conversation {sender_id!r} of {whose} ({events} events) from {describe(engine)}")
    if not found:
        print(f"No conversation of {whose} in {describe(engine)}: nothing to delete")
    if missing:
        print(
            f"forget: {args.sender.strip()!r} looks like a {channel} id, whose conversation is stored "
            f"under a keyed pseudonym: set {' or '.join(missing)} as the Rasa servers have it and "
            "run this again (only the ids above were looked for).",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
