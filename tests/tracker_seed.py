"""Conversations written into a tracker store the way the Rasa server writes them, with chosen
timestamps: for the retention and review tests (SQLite and PostgreSQL alike).

Events are Rasa's own classes saved by Rasa's own `SQLTrackerStore`, so the rows (columns, JSON
in `data`) are exactly those of a running server; only the clock is ours.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

DAY = 86400.0
NOT_UNDERSTOOD_FR = "Désolé, je n'ai pas compris. Pouvez-vous reformuler ? Voici quelques sujets possibles :"


@dataclass
class Conversation:
    sender: str
    start: float
    step: float = 10.0
    events: List[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clock = self.start
        self.events += [
            ActionExecuted("action_session_start", timestamp=self._tick()),
            SessionStarted(timestamp=self._tick()),
            ActionExecuted("action_listen", timestamp=self._tick()),
        ]

    def _tick(self, seconds: float = 0.001) -> float:
        self.clock += seconds
        return self.clock

    def turn(
        self,
        text: str,
        intent: str,
        confidence: float,
        *,
        at: Optional[float] = None,
        ranking: Sequence[Tuple[str, float]] = (),
        channel: str = "rest",
        language: Optional[str] = "fr",
        topic: Optional[str] = None,
        bot: Optional[str] = "Une réponse.",
        buttons: Sequence[Tuple[str, str]] = (),
        action: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
    ) -> "Conversation":
        """One user message and the assistant's turn after it (`bot=None`: no reply stored)."""
        self.clock = at if at is not None else self.clock + self.step
        ranking_data = [{"name": name, "confidence": c} for name, c in (ranking or [(intent, confidence)])]
        parse_data = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "text": text,
            "intent_ranking": ranking_data,
        }
        self.events.append(UserUttered(
            text, {"name": intent, "confidence": confidence}, [], parse_data,
            timestamp=self._tick(0), input_channel=channel, metadata=metadata or {},
        ))
        action = action or "action_answer_fact"
        self.events.append(ActionExecuted(action, timestamp=self._tick()))
        if bot is not None:
            data = {"buttons": [{"title": t, "payload": p} for t, p in buttons]} if buttons else {}
            self.events.append(BotUttered(bot, data, timestamp=self._tick()))
            if language:
                self.events.append(SlotSet("language", language, timestamp=self._tick()))
            if topic:
                self.events.append(SlotSet("topic", topic, timestamp=self._tick()))
        self.events.append(ActionExecuted("action_listen", timestamp=self._tick()))
        return self

    @property
    def last(self) -> float:
        return max(event.timestamp for event in self.events)


def save(store: SQLTrackerStore, conversations: Sequence[Conversation]) -> None:
    async def save_all() -> None:
        for conversation in conversations:
            await store.save(DialogueStateTracker.from_events(conversation.sender, conversation.events))

    asyncio.run(save_all())


def sqlite_store(path) -> SQLTrackerStore:
    return SQLTrackerStore(dialect="sqlite", db=str(path))


def postgresql_store(settings: Dict[str, str], db_name: str) -> SQLTrackerStore:
    return SQLTrackerStore(
        dialect="postgresql", host=settings["DB_HOST"], port=int(settings["DB_PORT"]),
        username=settings["DB_USER"], password=settings["DB_PASSWORD"] or None, db=db_name,
    )
