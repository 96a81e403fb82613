"""Custom actions: thin wrappers that read the tracker, ask actions.understanding and actions.answers,
and reply."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.action_server import count_reply
from actions.answers import (
    Reply,
    answer,
    not_in_facts_reply,
    not_understood_reply,
    small_talk_reply,
)
from actions.facts import FactsError, FactStore
from actions.language import conversation_fallback, detect_language, normalise_language, preload
from actions.understanding import FACT_INTENTS, NOT_IN_FACTS_INTENT, resolve_intent

logger = logging.getLogger(__name__)

# One store for the action server's lifetime: it reloads the file itself when it changes.
FACT_STORE = FactStore()
# Lingua's full models for the three languages, loaded at start, not on the first user's message.
preload()
# The facts file too (~0.3 s to read and check, over 1 s on a busy machine): read on the first
# message, it made the first answer after `make run` wait for it. A broken file is logged by the
# store and reported on each message, as before.
try:
    FACT_STORE.current()
except FactsError:
    pass


def channel_language(tracker: Tracker) -> Optional[str]:
    """The language the channel gave with this message (web page language, Telegram's)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return normalise_language(metadata.get("language")) if isinstance(metadata, dict) else None


def conversation_language(tracker: Tracker) -> str:
    """Language of the user's last message; ambiguous messages keep the conversation's.

    The conversation's language is the last reply's, except when the channel's language has just
    changed (the user flipped the page's FR/EN/ES switch): then the new page language wins.
    """
    fallback = conversation_fallback(
        tracker.get_slot("language"), tracker.get_slot("channel_language"), channel_language(tracker)
    )
    text = (tracker.latest_message or {}).get("text") or ""
    return detect_language(text, fallback)


def _send(
    dispatcher: CollectingDispatcher, tracker: Tracker, reply: Reply, lang: str
) -> List[Dict[Text, Any]]:
    # `language` becomes the bot message's metadata: the web page marks each bubble's language.
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None, language=lang)
    events: List[Dict[Text, Any]] = [SlotSet("language", lang)]
    given = channel_language(tracker)
    if given and given != tracker.get_slot("channel_language"):
        events.append(SlotSet("channel_language", given))
    if reply.topic:
        events += [
            SlotSet("topic", reply.topic), SlotSet("country", reply.country),
            SlotSet("term", reply.term), SlotSet("situation", reply.situation),
        ]
    return events


def _intent(tracker: Tracker) -> str:
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name") or ""
    return resolve_intent(
        intent,
        message.get("entities") or [],
        message.get("intent_ranking") or [],
        message.get("text") or "",
    )


def _answer_fact(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> List[Dict[Text, Any]]:
    lang = conversation_language(tracker)
    reply = answer(
        FACT_STORE.current(),
        intent,
        (tracker.latest_message or {}).get("entities") or [],
        lang,
        topic=tracker.get_slot("topic"),
        country=tracker.get_slot("country"),
        text=(tracker.latest_message or {}).get("text") or "",
        term=tracker.get_slot("term"),
        situation_id=tracker.get_slot("situation"),
    )
    return _send(dispatcher, tracker, reply, lang)


def _reply_without_fact(
    dispatcher: CollectingDispatcher, tracker: Tracker, intent: str
) -> List[Dict[Text, Any]]:
    lang = conversation_language(tracker)
    facts = FACT_STORE.current()
    message = tracker.latest_message or {}
    ranking = message.get("intent_ranking") or []
    entities = message.get("entities") or []
    if intent == "nlu_fallback":
        # Suggestions only from a real guess: a low-confidence one, or "off-topic" said of a
        # message that names IOM (the topics ranked next); not from a message resolve_intent
        # set aside as markup only, whose ranking says nothing about a topic.
        classified = (message.get("intent") or {}).get("name")
        guessed = classified in (intent, "out_of_scope")
        reply = not_understood_reply(facts, lang, ranking if guessed else (), entities)
    elif intent == NOT_IN_FACTS_INTENT:
        reply = not_in_facts_reply(facts, lang, ranking, entities)
    else:
        reply = small_talk_reply(facts, intent, lang)
    return _send(dispatcher, tracker, reply, lang)


def _reply(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
    intent = _intent(tracker)
    if intent in FACT_INTENTS:
        events = _answer_fact(dispatcher, tracker, intent)
    else:
        events = _reply_without_fact(dispatcher, tracker, intent)
    count_reply(intent, events, FACT_STORE.current().fact_ids)  # the action server's metrics
    return events


class ActionAnswerFact(Action):
    """Every reply, from the facts file: a fact and its follow-ups (more, source, since when),
    which set the topic, or a reply that sets none (greeting, thanks, help, off-topic, not
    understood, not in the facts, no opinion).

    One action, not one per kind of reply: which reply is chosen by the intent once
    resolve_intent has corrected the classifier (a named office, another organisation named,
    markup only), and a rule chosen on the classifier's intent would often be the wrong one."""

    def name(self) -> Text:
        return "action_answer_fact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return _reply(dispatcher, tracker)
