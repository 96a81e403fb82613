"""The tracker store's SQL database, as an endpoints file describes it.

`make purge`, `make forget` and `make review` read the same `tracker_store` section the Rasa server
reads: `endpoints.yml` (SQLite file `tracker.db`, `server.tracker_store.WindowedSQLTrackerStore`) by
default, `deploy/endpoints.yml` (PostgreSQL, every value from the environment) with
`ENDPOINTS=deploy/endpoints.yml`. Both are Rasa's SQL tracker store: one table, `events`, one row
per event (`sender_id`, `type_name`, `timestamp`, `intent_name`, `action_name`, `data` as JSON).

Only the tracker store section is read, and `${VAR}` is replaced from the environment there as
Rasa does, so these tools need neither Rasa nor the lock store's or action server's variables.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Dict, Optional
from urllib.parse import urlsplit

import sqlalchemy as sa
import yaml

EVENTS_TABLE = "events"
# Tracker store types that are Rasa's SQL store (or our subclass of it, server/tracker_store.py).
SQL_TYPES = {"sql", "server.tracker_store.windowedsqltrackerstore", "rasa.core.tracker_store.sqltrackerstore"}
_ENV_VAR = re.compile(r"\$\{([^}]+)\}")


class StoreError(Exception):
    """The endpoints file names no SQL tracker store we can open."""


def _substitute(value: Any) -> Any:
    if not isinstance(value, str):
        return value

    def variable(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name not in os.environ:
            raise StoreError(f"the tracker store setting {value!r} needs the environment variable {name}")
        return os.environ[name]

    return _ENV_VAR.sub(variable, value)


def tracker_store_config(endpoints: Path) -> Dict[str, Any]:
    try:
        config = yaml.safe_load(Path(endpoints).read_text()) or {}
    except OSError as error:
        raise StoreError(f"cannot read {endpoints}: {error.strerror}") from error
    store = config.get("tracker_store")
    if not isinstance(store, dict):
        raise StoreError(f"{endpoints} has no tracker_store section (conversations are kept in memory only)")
    store = {key: _substitute(value) for key, value in store.items()}
    kind = str(store.get("type", "")).lower()
    if kind not in SQL_TYPES:
        raise StoreError(f"{endpoints}: tracker store type {store.get('type')!r} is not an SQL store")
    return store


def database_url(store: Dict[str, Any]) -> Any:
    """The URL Rasa's `SQLTrackerStore.get_db_url` builds from these settings (a full URL in
    `url` is used as it is)."""
    dialect = store.get("dialect") or "sqlite"
    host = store.get("url") or None
    port = store.get("port")
    if host and "://" in host:
        return host
    if host:
        parsed = urlsplit(f"scheme://{host}")
        port = parsed.port or port
        host = parsed.hostname or host
    return sa.engine.URL.create(
        drivername=dialect,
        username=store.get("username") or None,
        password=store.get("password") or None,
        host=host,
        port=int(port) if port not in (None, "") else None,
        database=str(store.get("db") or "rasa.db"),
        query=store.get("query") or {},
    )


def open_engine(endpoints: Path) -> sa.engine.Engine:
    url = sa.engine.make_url(database_url(tracker_store_config(endpoints)))
    if url.drivername.startswith("sqlite"):
        # A busy server holds the write lock for a few milliseconds at a time: wait for it.
        return sa.create_engine(url, connect_args={"timeout": 30})
    return sa.create_engine(url, pool_pre_ping=True)


def events_table(engine: sa.engine.Engine) -> Optional[sa.Table]:
    """Rasa's `events` table, or None when the store has never held a conversation."""
    database = engine.url.database
    if engine.url.drivername.startswith("sqlite") and database and not Path(database).exists():
        return None  # no file yet: connecting would create an empty one
    if not sa.inspect(engine).has_table(EVENTS_TABLE):
        return None
    return sa.Table(EVENTS_TABLE, sa.MetaData(), autoload_with=engine)


def describe(engine: sa.engine.Engine) -> str:
    """Where the conversations are, without the password (for messages)."""
    return engine.url.render_as_string(hide_password=True)
