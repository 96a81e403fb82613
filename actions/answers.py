"""What the assistant replies, as plain functions of (facts, the resolved intent, conversation state).

The action classes in actions.py only read the tracker and turn a `Reply` into events. The intent
to act on comes from actions/understanding.py and the membership and presence sentences from
actions/membership.py, so every reply can be tested without Rasa.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

from actions.fact_dates import as_of_text
from actions.facts import Facts
from actions.membership import (
    source_text,
    membership_text,
    newest_members_text,
    observer_list_text,
    presence_text,
    since_text,
)
from actions.understanding import (
    ANY_DEPUTY,
    COUNTRY_INTENTS,
    FOLLOW_UP_INTENTS,
    LEADERSHIP_INTENTS,
    OFFICE_FACTS,
    OFFICE_FUNCTION,
    SIMPLE_FACT_INTENTS,
    SMALL_TALK_INTENTS,
    STATES_LIST_INTENTS,
    country_codes,
    office_fact,
    suggested_topics,
)
from components.countries import is_country_code

# Topics offered when the user has not picked one yet (greeting, help, fallback).
STARTER_TOPICS = ("identity", "leadership", "member_states")


@dataclass
class Reply:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    # Fact the answer came from (sets the `topic` slot); None leaves the slot as it was.
    topic: Optional[str] = None
    # Country the answer was about (sets the `country` slot), only with a topic.
    country: Optional[str] = None


def payload_for(fact_id: str) -> str:
    """The message a button sends to ask for `fact_id` (bypasses NLU, so it is exact)."""
    if fact_id in OFFICE_FACTS:
        return "/ask_office" + json.dumps({"office": fact_id}, separators=(",", ":"))
    return f"/ask_{fact_id}"


def topic_buttons(facts: Facts, fact_ids: Iterable[str], lang: str) -> List[Dict[str, str]]:
    return [{"title": facts.text(fid, "title", lang), "payload": payload_for(fid)} for fid in fact_ids]


def _with_source(facts: Facts, text: str, sources: List[str], as_of: str, lang: str) -> str:
    """An answer's text, then its first source (in the reader's language) and its date."""
    source = facts.message("answer_source", lang, url=sources[0], as_of=as_of_text(as_of, lang))
    return f"{text}\n\n{source}"


def fact_reply(facts: Facts, fact_id: str, lang: str, part: str = "short") -> Reply:
    fact = facts.fact(fact_id)
    text = _with_source(facts, facts.text(fact_id, part, lang), facts.sources(fact_id, lang), fact["as_of"], lang)
    return Reply(text, topic_buttons(facts, fact["related"], lang), topic=fact_id)


def _deputies_reply(facts: Facts, lang: str) -> Reply:
    # "and the deputy?": there are two; name both, the one with a sourced holder first.
    parts = [facts.message("deputies", lang)]
    parts += [facts.text(fid, "short", lang) for fid in ("ddg_operations", "ddg_management_reform")]
    related = ["ddg_management_reform", "director_general", "leadership"]
    return Reply(
        "\n\n".join(parts), topic_buttons(facts, related, lang), topic="ddg_operations"
    )


def country_reply(facts: Facts, codes: List[str] | str, lang: str) -> Reply:
    """Membership of each country named (topic member_states, `country` = the first one)."""
    codes = [codes] if isinstance(codes, str) else codes
    buttons = topic_buttons(facts, ["member_states", "presence"], lang)
    codes = [code for code in codes if is_country_code(code)]
    if not codes:
        return Reply(facts.message("country_unknown", lang), buttons, topic="member_states")
    text = "\n\n".join(membership_text(facts, code, lang) for code in codes)
    return Reply(text, buttons, topic="member_states", country=codes[0])


def presence_reply(facts: Facts, codes: List[str], lang: str) -> Reply:
    """IOM in a given country (topic presence, `country` = the first one)."""
    buttons = topic_buttons(facts, ["member_states", "our_work"], lang)
    text = "\n\n".join(presence_text(facts, code, lang) for code in codes)
    return Reply(text, buttons, topic="presence", country=codes[0])



def observer_list_reply(facts: Facts, lang: str) -> Reply:
    buttons = topic_buttons(facts, ["member_states", "presence"], lang)
    return Reply(observer_list_text(facts, lang), buttons, topic="member_states")



def newest_members_reply(facts: Facts, lang: str) -> Reply:
    buttons = topic_buttons(facts, ["member_states", "presence"], lang)
    return Reply(newest_members_text(facts, lang), buttons, topic="member_states")


def follow_up_reply(
    facts: Facts, intent: str, topic: Optional[str], country: Optional[str], lang: str
) -> Reply:
    if not facts.has_fact(topic):
        starters = topic_buttons(facts, STARTER_TOPICS, lang)
        return Reply(facts.message("no_topic", lang), starters)
    fact = facts.fact(topic)
    buttons = topic_buttons(facts, fact["related"], lang)
    if intent == "ask_more":
        return fact_reply(facts, topic, lang, part="long")
    if topic in ("member_states", "presence") and is_country_code(country):
        # "Source?" / "since when?" after an answer about a country are about that country.
        text = source_text(facts, country, lang) if intent == "ask_source" else since_text(facts, country, lang)
        return Reply(text, buttons, topic=topic, country=country)
    if intent == "ask_source":
        sources = "\n".join(facts.sources(topic, lang))
        text = facts.message("source", lang, sources=sources, as_of=as_of_text(fact["as_of"], lang))
        return Reply(text, buttons, topic=topic)
    # ask_since_when
    since = facts.text(topic, "since", lang)
    text = since or facts.message("no_since", lang, url=facts.sources(topic, lang)[0])
    return Reply(text, buttons, topic=topic)


def answer(
    facts: Facts,
    intent: str,
    entities: Iterable[Dict],
    lang: str,
    topic: Optional[str] = None,
    country: Optional[str] = None,
) -> Reply:
    """The reply to a fact question or follow-up (intents in FACT_INTENTS)."""
    if intent in FOLLOW_UP_INTENTS:
        return follow_up_reply(facts, intent, topic, country, lang)
    countries = country_codes(entities)
    if intent in (*COUNTRY_INTENTS, *STATES_LIST_INTENTS):
        if countries:
            # "et au Mali ?" after an answer on IOM in a country asks the same about Mali.
            if intent == "inform_country" and topic == "presence":
                return presence_reply(facts, countries, lang)
            return country_reply(facts, countries, lang)
        if intent == "ask_observer_states":
            return observer_list_reply(facts, lang)
        if intent == "ask_newest_members":
            return newest_members_reply(facts, lang)
        if intent == "inform_country":
            return country_reply(facts, [], lang)
    if intent == "ask_presence" and countries:
        return presence_reply(facts, countries, lang)
    if intent in LEADERSHIP_INTENTS:
        office = office_fact(entities)
        if intent == "ask_office":
            # "Who handles operations?": the office named by what it does.
            office = office or office_fact(entities, OFFICE_FUNCTION)
        if office == ANY_DEPUTY:
            return _deputies_reply(facts, lang)
        if office:
            return fact_reply(facts, office, lang)
        if intent == "ask_office":
            # "Who runs IOM?" with no office named: the Director General.
            return fact_reply(facts, "director_general", lang)
    fact_id = SIMPLE_FACT_INTENTS.get(intent)
    if fact_id is None:
        return not_understood_reply(facts, lang)
    return fact_reply(facts, fact_id, lang)


def _suggestion_buttons(facts: Facts, suggested: List[str], lang: str) -> List[Dict[str, str]]:
    """The suggested topics, topped up with the starter topics to at least two buttons."""
    topics = list(suggested)
    for starter in STARTER_TOPICS:
        if len(topics) >= 2:
            break
        if starter not in topics:
            topics.append(starter)
    return topic_buttons(facts, topics, lang)


def not_understood_reply(
    facts: Facts, lang: str, ranking: Iterable[Dict] = (), entities: Iterable[Dict] = ()
) -> Reply:
    """"Not understood", with the topics the classifier ranked highest as buttons when there are
    any above the floor, else the starter topics. Never a dead end."""
    suggested = suggested_topics(ranking, entities)
    if not suggested:
        return Reply(facts.message("not_understood", lang), topic_buttons(facts, STARTER_TOPICS, lang))
    return Reply(facts.message("not_understood_suggest", lang), _suggestion_buttons(facts, suggested, lang))


def not_in_facts_reply(
    facts: Facts, lang: str, ranking: Iterable[Dict] = (), entities: Iterable[Dict] = ()
) -> Reply:
    """A question about IOM with no answer in the facts file: say so and where to look, with the
    nearest topics as buttons. Sets no topic: no fact was given."""
    suggested = suggested_topics(ranking, entities)
    buttons = _suggestion_buttons(facts, suggested, lang) if suggested else topic_buttons(facts, STARTER_TOPICS, lang)
    return Reply(facts.message("not_in_facts", lang), buttons)


def small_talk_reply(facts: Facts, intent: str, lang: str) -> Reply:
    """Replies that are not facts: they never set the topic."""
    if intent not in SMALL_TALK_INTENTS:
        return not_understood_reply(facts, lang)
    text = facts.message(intent, lang)
    if intent in ("greet", "help", "out_of_scope"):
        return Reply(text, topic_buttons(facts, STARTER_TOPICS, lang))
    return Reply(text)
