"""Conversations read back from the tracker store as turns: one user message and what followed.

Rasa's SQL tracker store keeps one row per event (privacy/store.py). A turn starts at a `user`
event and holds every event up to the next one: the actions run, the bot's messages (with their
buttons) and the slots set. From these:

- `outcome`: `answered` (the action set the `topic` slot: a fact was given), `out_of_scope` (the
  intent `out_of_scope`), `not_understood` (the intent `nlu_fallback`, Rasa's default fallback, or
  the bot said messages.not_understood), `no_answer` (nothing stored from the bot: the action
  server failed and the guard said "temporarily unavailable"), else `small_talk`;
- `language`: the `language` slot the reply set (fr, en, es...), else the conversation's so far,
  else the language the channel gave in the message metadata;
- `channel`: the user event's `input_channel` (rest, socketio, telegram, whatsapp...);
- `guess`, `guess_confidence`: the classifier's best intent other than `nlu_fallback` (from the
  stored intent ranking), for the review's NLU file;
- `click`: the button payload (text starting with '/') and, when the previous turn offered it, the
  button's title; `after_answer` when the previous turn was an answer.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Tuple

import sqlalchemy as sa

from privacy.redact import redact

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
FALLBACK_ACTIONS = {"action_default_fallback", "action_two_stage_fallback"}
OUTCOMES = ("answered", "small_talk", "not_understood", "out_of_scope", "no_answer")


@dataclass
class Turn:
    sender: str
    timestamp: float
    text: str
    intent: str = ""
    confidence: float = 0.0
    guess: str = ""
    guess_confidence: float = 0.0
    channel: str = ""
    language: str = ""
    topic: Optional[str] = None
    outcome: str = "no_answer"
    bot_texts: List[str] = field(default_factory=list)
    buttons: List[Dict[str, Any]] = field(default_factory=list)
    click: Optional[Tuple[str, str]] = None  # (payload, button title or "")
    after_answer: bool = False

    @property
    def is_click(self) -> bool:
        return self.text.startswith("/")


def fold(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces: how near-identical texts compare."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = [
        c if c.isalnum() else " "
        for c in decomposed
        if not unicodedata.combining(c)
    ]
    return " ".join("".join(kept).split())


def _best_guess(parse_data: Dict[str, Any], intent: str, confidence: float) -> Tuple[str, float]:
    for candidate in parse_data.get("intent_ranking") or []:
        name = candidate.get("name")
        if name and name != FALLBACK_INTENT:
            return name, float(candidate.get("confidence") or 0.0)
    if intent != FALLBACK_INTENT:
        return intent, confidence
    return "", 0.0


def _user_turn(sender: str, data: Dict[str, Any], timestamp: float) -> Turn:
    parse_data = data.get("parse_data") or {}
    intent_data = parse_data.get("intent") or {}
    intent = intent_data.get("name") or ""
    confidence = float(intent_data.get("confidence") or 0.0)
    guess, guess_confidence = _best_guess(parse_data, intent, confidence)
    metadata = data.get("metadata") or parse_data.get("metadata") or {}
    language = metadata.get("language") if isinstance(metadata, dict) else None
    return Turn(
        sender=sender,
        timestamp=timestamp,
        # Redacted again: conversations stored before redaction existed, or through the HTTP API.
        text=redact(" ".join(str(data.get("text") or "").split())),
        intent=intent,
        confidence=confidence,
        guess=guess,
        guess_confidence=guess_confidence,
        channel=data.get("input_channel") or "unknown",
        language=language if isinstance(language, str) else "",
    )


class _Conversation:
    """Builds the turns of one conversation from its events, in stored order."""

    def __init__(self, sender: str, not_understood_texts: Set[str]) -> None:
        self.sender = sender
        self.not_understood_texts = not_understood_texts
        self.language = ""  # the `language` slot so far
        self.turns: List[Turn] = []
        self.actions: List[str] = []
        self.topic_set = False

    def event(self, type_name: str, data: Dict[str, Any], timestamp: float) -> None:
        if type_name == "user":
            self._close()
            turn = _user_turn(self.sender, data, timestamp)
            if self.language:
                turn.language = self.language
            self.turns.append(turn)
            self.actions = []
            self.topic_set = False
            return
        if not self.turns:
            if type_name == "slot" and data.get("name") == "language" and data.get("value"):
                self.language = str(data["value"])
            return
        turn = self.turns[-1]
        if type_name == "bot":
            turn.bot_texts.append(str(data.get("text") or ""))
            buttons = (data.get("data") or {}).get("buttons") or []
            turn.buttons.extend(b for b in buttons if isinstance(b, dict))
        elif type_name == "action":
            self.actions.append(str(data.get("name") or ""))
        elif type_name == "slot":
            name, value = data.get("name"), data.get("value")
            if name == "language" and value:
                self.language = str(value)
                turn.language = self.language
            elif name == "topic" and value:
                turn.topic = str(value)
                self.topic_set = True

    def _close(self) -> None:
        if not self.turns:
            return
        turn = self.turns[-1]
        if self.topic_set:
            turn.outcome = "answered"
        elif turn.intent == OUT_OF_SCOPE_INTENT:
            turn.outcome = "out_of_scope"
        elif (
            turn.intent == FALLBACK_INTENT
            or FALLBACK_ACTIONS & set(self.actions)
            or any(fold(text) in self.not_understood_texts for text in turn.bot_texts)
        ):
            turn.outcome = "not_understood"
        elif not turn.bot_texts:
            turn.outcome = "no_answer"
        else:
            turn.outcome = "small_talk"
        if len(self.turns) >= 2:
            previous = self.turns[-2]
            turn.after_answer = previous.outcome == "answered"
        if turn.is_click:
            title = ""
            if len(self.turns) >= 2:
                for button in self.turns[-2].buttons:
                    if button.get("payload") == turn.text:
                        title = str(button.get("title") or "")
                        break
            turn.click = (turn.text, title)

    def finish(self) -> List[Turn]:
        self._close()
        return self.turns


def read_turns(
    engine: sa.engine.Engine,
    since: float,
    until: float,
    not_understood_texts: Iterable[str] = (),
) -> List[Turn]:
    """Every user turn with `since <= timestamp < until`, conversation by conversation.

    A conversation's earlier events are read too (from its start), so the language and the
    previous turn are known for the first turn in the period.
    """
    from privacy.store import events_table

    table = events_table(engine)
    if table is None:
        return []
    texts = {fold(text) for text in not_understood_texts if text}
    senders = (
        sa.select(table.c.sender_id)
        .where(table.c.type_name == "user", table.c.timestamp >= since, table.c.timestamp < until)
        .distinct()
        .scalar_subquery()
    )
    query = (
        sa.select(table.c.sender_id, table.c.type_name, table.c.timestamp, table.c.data)
        .where(table.c.sender_id.in_(senders), table.c.timestamp < until)
        .order_by(table.c.sender_id, table.c.id)
    )
    turns: List[Turn] = []
    with engine.connect() as connection:
        for conversation in _conversations(connection.execute(query), texts):
            turns.extend(t for t in conversation if since <= t.timestamp < until)
    return turns


def _conversations(rows: Iterable[Any], texts: Set[str]) -> Iterator[List[Turn]]:
    current: Optional[_Conversation] = None
    for sender, type_name, timestamp, raw in rows:
        if current is None or current.sender != sender:
            if current is not None:
                yield current.finish()
            current = _Conversation(sender, texts)
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            continue
        if isinstance(data, dict):
            current.event(type_name, data, float(timestamp or 0.0))
    if current is not None:
        yield current.finish()
