"""An SQL tracker store whose per-message cost does not grow with the conversation's length.

Why (measured with py-spy on the running server, see BENCHMARKS.md): on every message Rasa 3.6
loads *all* events of the conversation from the SQL store, deserialises each one (slow:
`Event.resolve_by_type` walks every Event subclass for every event), replays them into a new
tracker, and RulePolicy then featurises every past turn. At turn 200 that was ~85% of the time.

What this store does instead:
- It keeps, per conversation (bounded LRU in memory), a *window*: the events of the last few user
  turns as Event objects, plus a snapshot of the state before them (slot values, active loop,
  paused). `retrieve()` rebuilds a short tracker from `snapshot + window`, so the processor, the
  policies and the action server see a tracker whose state (slots, latest message, last turns) is
  the same as the full one, but with a constant number of events. Our policies only need the last
  turn (RulePolicy with intent -> action rules; see config.yml).
- `save()` appends only the events added since `retrieve()` (it remembers how many events the
  tracker it handed out had), with no `count()` query over the conversation.
- Nothing is lost: every event still goes to the SQL database exactly as the stock store writes it,
  and `retrieve_full_tracker()` (used by `GET /conversations/<id>/tracker`) is the stock one, so
  the API returns the complete conversation.
- Coherence: before using a cached window it checks the conversation's last event id in the
  database (one indexed `max(id)` query); if another process (another Sanic worker, an API call
  that replaced events...) wrote in between, the window is rebuilt from the database; when the
  conversation was deleted (`make forget`, `make purge`: privacy/retention.py) there is no id,
  the window is dropped and the conversation starts afresh.

Memory: a window costs ~40 KB (measured: 1,000 six-turn conversations added 40 MB to the
server), so the LRU keeps 1,000 conversations by default and the server stays within its 600 MB
budget (BENCHMARKS.md). A conversation that falls out of it is loaded from the database once when
it comes back (the stock cost, once), then windowed again.

Limits: a rule with `conversation_start: true` or a story/policy that needs more than
`window_turns` past user turns would see the shortened history; this assistant has neither. A
tracker that was not handed out by `retrieve()` (e.g. built from `PUT .../tracker/events`) is
saved by the stock code path.

Use it in endpoints.yml (same arguments as the stock SQL store):

    tracker_store:
      type: server.tracker_store.WindowedSQLTrackerStore
      dialect: sqlite
      db: tracker.db
      window_turns: 5       # optional
      max_conversations: 1000    # optional, size of the in-memory LRU (~40 KB each)
      sqlite_fast: true     # optional: pooled connection + WAL journal (SQLite only)
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

# Attribute set on trackers handed out by `retrieve()`: number of their events already stored.
_STORED = "_perf_window_stored_events"
# Metadata on the synthetic SessionStarted that begins every window tracker.
_WINDOW_MARK = "perf_window_snapshot"


@dataclass
class _Window:
    last_id: int  # id of the conversation's last event in the database
    snapshot: List[Event]  # synthetic events recreating the state before `events`
    events: List[Event] = field(default_factory=list)  # real events, already stored


class WindowedSQLTrackerStore(SQLTrackerStore):
    def __init__(
        self,
        *args: Any,
        window_turns: int = 5,
        max_conversations: int = 1000,
        sqlite_fast: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.window_turns = max(2, int(window_turns))
        self.max_conversations = max(1, int(max_conversations))
        self._windows: "OrderedDict[Text, _Window]" = OrderedDict()
        table = self.SQLEvent.__table__
        self._max_id_statement = sa.select(sa.func.max(table.c.id)).where(
            table.c.sender_id == sa.bindparam("sender_id")
        )
        if self.engine.dialect.name == "sqlite" and sqlite_fast:
            self._fast_sqlite()

    def _fast_sqlite(self) -> None:
        """Pooled connection and WAL journal for SQLite (measured in BENCHMARKS.md).

        SQLAlchemy 1.4 opens a new SQLite connection for every session (NullPool) and the default
        rollback journal syncs the disk twice per commit; under load that was ~30% of the server's
        time. WAL with `synchronous=NORMAL` keeps every committed event across a crash of the
        process; only an OS crash or power loss can drop the last commits. The database file stays
        a plain SQLite file that other processes (and the stock store) can read.
        """
        engine = sa.create_engine(
            self.engine.url,
            poolclass=QueuePool,
            pool_size=2,
            connect_args={"check_same_thread": False},
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        self.engine.dispose()
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine)

    # --- reading ---------------------------------------------------------------------------

    def _max_id(self, executor: Any, sender_id: Text) -> int:
        """Id of the conversation's last stored event (0 if none), with one prebuilt Core
        statement: this runs up to three times per message, and building an ORM query each
        time cost about 10% of the server's CPU under load (py-spy)."""
        return int(executor.execute(self._max_id_statement, {"sender_id": sender_id}).scalar() or 0)

    def _last_event_id(self, sender_id: Text) -> int:
        with self.engine.connect() as connection:
            return self._max_id(connection, sender_id)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        last_id = self._last_event_id(sender_id)
        if last_id == 0:
            self._windows.pop(sender_id, None)
            return None
        window = self._windows.get(sender_id)
        if window is None or window.last_id != last_id:
            # Cache miss or someone else wrote: load the conversation once, the stock way.
            full = await super().retrieve(sender_id)
            if full is None:
                return None
            window = self._window_from(list(full.events), [], last_id)
            self._remember(sender_id, window)
        else:
            self._windows.move_to_end(sender_id)
        tracker = self._tracker(sender_id, window.snapshot + window.events)
        setattr(tracker, _STORED, len(tracker.events))
        return tracker

    def _tracker(self, sender_id: Text, events: List[Event]) -> DialogueStateTracker:
        return DialogueStateTracker.from_events(
            sender_id, events, self.domain.slots if self.domain else None
        )

    def _window_from(self, events: List[Event], snapshot: List[Event], last_id: int) -> _Window:
        """Keeps the last `window_turns` user turns; the rest becomes a state snapshot."""
        users = [i for i, event in enumerate(events) if isinstance(event, UserUttered)]
        if len(users) <= self.window_turns:
            return _Window(last_id, snapshot, events)
        cut = users[-self.window_turns]
        # Start the window at the `action_listen` before that user message, as a turn starts.
        if cut > 0 and isinstance(events[cut - 1], ActionExecuted) and (
            events[cut - 1].action_name == ACTION_LISTEN_NAME
        ):
            cut -= 1
        before = self._tracker("snapshot", snapshot + events[:cut])
        return _Window(last_id, self._snapshot(before, events[cut].timestamp), events[cut:])

    @staticmethod
    def _snapshot(tracker: DialogueStateTracker, timestamp: float) -> List[Event]:
        """Events that recreate `tracker`'s state (slots, active loop, paused) from scratch."""
        events: List[Event] = [
            ActionExecuted(ACTION_SESSION_START_NAME, timestamp=timestamp),
            SessionStarted(timestamp=timestamp, metadata={_WINDOW_MARK: True}),
        ]
        for name, slot in tracker.slots.items():
            if slot.value != slot.initial_value:
                events.append(SlotSet(name, slot.value, timestamp=timestamp))
        if tracker.active_loop_name:
            events.append(ActiveLoop(tracker.active_loop_name, timestamp=timestamp))
        if tracker.is_paused():
            events.append(ConversationPaused(timestamp=timestamp))
        return events

    def _remember(self, sender_id: Text, window: _Window) -> None:
        self._windows[sender_id] = window
        self._windows.move_to_end(sender_id)
        while len(self._windows) > self.max_conversations:
            self._windows.popitem(last=False)

    # --- writing ---------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        stored = getattr(tracker, _STORED, None)
        window = self._windows.get(sender_id)
        if stored is None or window is None:
            if _is_window_tracker(tracker):
                # A copy of a window tracker lost its marker: never let the stock path (which
                # counts rows) slice it wrongly. This does not happen in Rasa 3.6's processor.
                raise RuntimeError(
                    f"WindowedSQLTrackerStore: cannot save an untracked window tracker of "
                    f"'{sender_id}'"
                )
            # A full tracker (new conversation, API replacing events...): the stock way.
            self._windows.pop(sender_id, None)
            new_conversation = self._last_event_id(sender_id) == 0
            await super().save(tracker)
            if new_conversation:
                # All its events are now stored: later saves of this same tracker object (the
                # processor saves the one `create_tracker` returned) take the fast path below.
                setattr(tracker, _STORED, len(tracker.events))
                self._remember(
                    sender_id,
                    self._window_from(list(tracker.events), [], self._last_event_id(sender_id)),
                )
            return

        new_events = list(tracker.events)[stored:]
        if not new_events:
            return
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, sender_id)
        with self.session_scope() as session:
            before = self._max_id(session, sender_id)
            # One executemany INSERT through SQLAlchemy Core (cheaper than the ORM unit of work).
            session.execute(
                self.SQLEvent.__table__.insert(),
                [self._row(sender_id, event) for event in new_events],
            )
            last_id = self._max_id(session, sender_id)
            session.commit()
        setattr(tracker, _STORED, len(tracker.events))
        if before != window.last_id:
            # Someone else wrote to this conversation meanwhile: rebuild from the database.
            self._windows.pop(sender_id, None)
            return
        self._remember(
            sender_id, self._window_from(window.events + new_events, window.snapshot, last_id)
        )

    @staticmethod
    def _row(sender_id: Text, event: Event) -> Dict[Text, Any]:
        # Same columns and values as SQLTrackerStore.save.
        data: Dict[Text, Any] = event.as_dict()
        return dict(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )


def _is_window_tracker(tracker: DialogueStateTracker) -> bool:
    for event in tracker.events:
        if isinstance(event, SessionStarted) and (event.metadata or {}).get(_WINDOW_MARK):
            return True
    return False
