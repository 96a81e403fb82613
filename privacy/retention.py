"""How long conversations are kept: deleting old ones, or one person's on request.

- `purge(engine, days)`: every conversation whose last event is older than `days` days goes,
  whole (a conversation still in use keeps all its events). IOM_RETENTION_DAYS, default 90.
- `forget(engine, sender_id)`: one conversation goes, whatever its age.

Both are plain DELETEs on Rasa's `events` table (privacy/store.py), so they work the same on the
SQLite file of `make run` and on the PostgreSQL of several servers, while the servers run:
- Rasa's stock SQL store reads every conversation from the database on each message, so a deleted
  conversation is simply gone; the next message from that sender starts a new one.
- `server.tracker_store.WindowedSQLTrackerStore` keeps recent conversations in memory, but checks
  the conversation's last event id in the database (`max(id)`) before each use of its copy and
  drops the copy when the database has no event left (id 0), so a deleted conversation does not
  come back from memory either (tests/test_retention.py checks this on a running server).

Deletion goes in batches of senders, each its own short transaction, so a busy SQLite server
never waits long for the write lock.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import List, Optional

import sqlalchemy as sa

from privacy.store import events_table

logger = logging.getLogger(__name__)

RETENTION_ENV = "IOM_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 90.0
_BATCH = 200


class RetentionError(ValueError):
    pass


def retention_days(raw: Optional[str] = None) -> float:
    """IOM_RETENTION_DAYS (or `raw`), a positive number of days; default 90."""
    raw = os.environ.get(RETENTION_ENV) if raw is None else raw
    if raw is None or not str(raw).strip():
        return DEFAULT_RETENTION_DAYS
    try:
        days = float(raw)
    except ValueError:
        raise RetentionError(f"{RETENTION_ENV}={raw!r} is not a number of days") from None
    if not days > 0 or days == float("inf"):
        raise RetentionError(f"{RETENTION_ENV}={raw!r} must be a positive number of days")
    return days


@dataclass
class Deleted:
    conversations: int = 0
    events: int = 0


def old_senders(engine: sa.engine.Engine, days: float, now: Optional[float] = None) -> List[str]:
    """Senders whose conversation's last event is older than `days` days."""
    table = events_table(engine)
    if table is None:
        return []
    cutoff = (time.time() if now is None else now) - days * 86400
    query = (
        sa.select(table.c.sender_id)
        .group_by(table.c.sender_id)
        .having(sa.func.max(table.c.timestamp) < cutoff)
    )
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(query)]


def _delete(engine: sa.engine.Engine, table: sa.Table, senders: List[str], cutoff: Optional[float]) -> Deleted:
    deleted = Deleted()
    for start in range(0, len(senders), _BATCH):
        batch = senders[start:start + _BATCH]
        statement = sa.delete(table).where(table.c.sender_id.in_(batch))
        if cutoff is not None:
            # A sender who wrote again since old_senders() looked keeps the conversation.
            recent = (
                sa.select(table.c.sender_id)
                .where(table.c.sender_id.in_(batch), table.c.timestamp >= cutoff)
                .scalar_subquery()
            )
            statement = statement.where(table.c.sender_id.not_in(recent))
        # One statement per batch: it checks and deletes atomically, and holds SQLite's write
        # lock only for as long as the DELETE takes.
        with engine.begin() as connection:
            count = connection.execute(statement).rowcount or 0
        deleted.events += count
        deleted.conversations += len(batch) if count else 0
    return deleted


def purge(engine: sa.engine.Engine, days: float, now: Optional[float] = None) -> Deleted:
    """Deletes every conversation whose last event is older than `days` days."""
    table = events_table(engine)
    if table is None:
        return Deleted()
    now = time.time() if now is None else now
    senders = old_senders(engine, days, now)
    deleted = _delete(engine, table, senders, now - days * 86400)
    # A sender who wrote again meanwhile kept the conversation: count only those gone.
    deleted.conversations = len(senders) - len(_still_there(engine, table, senders))
    return deleted


def _still_there(engine: sa.engine.Engine, table: sa.Table, senders: List[str]) -> List[str]:
    found: List[str] = []
    with engine.connect() as connection:
        for start in range(0, len(senders), _BATCH):
            batch = senders[start:start + _BATCH]
            query = sa.select(table.c.sender_id).where(table.c.sender_id.in_(batch)).distinct()
            found += [row[0] for row in connection.execute(query)]
    return found


def forget(engine: sa.engine.Engine, sender_id: str) -> int:
    """Deletes one sender's whole conversation; returns the number of events deleted."""
    table = events_table(engine)
    if table is None:
        return 0
    return _delete(engine, table, [sender_id], None).events
