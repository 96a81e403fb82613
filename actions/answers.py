"""What the assistant replies, as plain functions of (facts, what the user asked, conversation state).

The action classes in actions.py only read the tracker and turn a `Reply` into events; every
decision about which fact answers which question lives here, so it can be tested without Rasa.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

from babel import Locale

from actions.facts import Facts

# Intents answered by exactly one fact: ask_<fact id>.
SIMPLE_FACT_INTENTS = {
    f"ask_{fact_id}": fact_id
    for fact_id in (
        "identity", "history", "un_system", "member_states", "presence", "headquarters",
        "languages", "leadership", "our_work", "agenda_2030", "xenophobia", "covid19",
        "partnerships", "careers", "get_involved", "data_research", "voluntary_return",
        "visas", "trafficking", "global_compact", "personal_help",
    )
}
OFFICE_FACTS = (
    "director_general", "ddg_management_reform", "ddg_operations", "chief_of_staff",
    "office_partnerships", "office_strategy",
)
# The office entity's value when the user says "the deputy" without saying which one.
ANY_DEPUTY = "ddg"
# What an office does ("operations", "la communication", "la estrategia"): a weaker sign than the
# office's title (`office`), read only when the classifier already took the message for a
# question about an office (ask_office), never to overrule it ("IOM management structure" is
# about the leadership as a whole; "what operations does IOM run?" about its work).
OFFICE_FUNCTION = "office_function"
COUNTRY_INTENTS = ("ask_member_states", "inform_country")
FOLLOW_UP_INTENTS = ("ask_more", "ask_source", "ask_since_when")
FACT_INTENTS = (*SIMPLE_FACT_INTENTS, "ask_office", "inform_country", *FOLLOW_UP_INTENTS)

SMALL_TALK_INTENTS = ("greet", "goodbye", "thanks", "bot_challenge", "help", "out_of_scope")
# A question about IOM that no fact answers (budget, staff numbers...): said so, never the
# nearest topic. Answered by action_small_talk: it sets no topic.
NOT_IN_FACTS_INTENT = "ask_not_in_facts"
# Topics offered when the user has not picked one yet (greeting, help, fallback).
STARTER_TOPICS = ("identity", "leadership", "member_states")
MEMBER_LIST_URL = "https://www.iom.int/member-states"
# FallbackClassifier's threshold in config.yml (tests/test_actions.py checks they agree): under
# it the classifier's guess is not trusted, so no other intent is taken at a lower confidence.
FALLBACK_THRESHOLD = 0.25
# The lowest classifier confidence at which a topic is offered as a suggestion when a message is
# not understood. Measured by scripts/suggestion_floor.py on unsure hold-out messages (README,
# "When unsure, suggest"): from 0.08 up, 21% of the ranked topics were the right one, twice a
# starter topic's 11%; between 0.02 and 0.08, 12%, no better than a starter.
SUGGESTION_FLOOR = 0.08
MAX_SUGGESTIONS = 3


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


def country_name(code: str, lang: str) -> Optional[str]:
    """The country's name in `lang`, or None for anything that is not a country code (entity
    values can come from a typed payload, so they are never echoed back as they are)."""
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{2}", code):
        return None
    return Locale(lang).territories.get(code)


def _entity_values(entities: Iterable[Dict], name: str) -> List[str]:
    return [e.get("value") for e in entities or [] if e.get("entity") == name and e.get("value")]


def _with_source(text: str, sources: List[str], lang: str) -> str:
    label = "Source :" if lang == "fr" else "Source:"
    return f"{text}\n\n{label} {sources[0]}"


def fact_reply(facts: Facts, fact_id: str, lang: str, part: str = "short") -> Reply:
    fact = facts.fact(fact_id)
    text = _with_source(facts.text(fact_id, part, lang), fact["sources"], lang)
    return Reply(text, topic_buttons(facts, fact["related"], lang), topic=fact_id)


def _office_fact(entities: Iterable[Dict], entity: str = "office") -> Optional[str]:
    for value in _entity_values(entities, entity):
        if value in OFFICE_FACTS or value == ANY_DEPUTY:
            return value
    return None


def _deputies_reply(facts: Facts, lang: str) -> Reply:
    # "and the deputy?": there are two; name both, the one with a sourced holder first.
    parts = [facts.message("deputies", lang)]
    parts += [facts.text(fid, "short", lang) for fid in ("ddg_operations", "ddg_management_reform")]
    related = ["ddg_management_reform", "director_general", "leadership"]
    return Reply(
        "\n\n".join(parts), topic_buttons(facts, related, lang), topic="ddg_operations"
    )


def country_reply(facts: Facts, code: str, lang: str) -> Reply:
    name = country_name(code, lang)
    buttons = topic_buttons(facts, ["member_states", "presence"], lang)
    if name is None:
        return Reply(facts.message("country_unknown", lang), buttons, topic="member_states")
    member = facts.member_country(code)
    if member:
        text = facts.message("country_member", lang, country=name, note=member["note"][lang])
        text = _with_source(text, member["sources"], lang)
    else:
        # No complete member list is at hand: never claim a country is NOT a member.
        text = facts.message("country_unconfirmed", lang, country=name)
    return Reply(text, buttons, topic="member_states", country=code)


def follow_up_reply(
    facts: Facts, intent: str, topic: Optional[str], country: Optional[str], lang: str
) -> Reply:
    if not facts.has_fact(topic):
        starters = topic_buttons(facts, STARTER_TOPICS, lang)
        return Reply(facts.message("no_topic", lang), starters)
    fact = facts.fact(topic)
    member = facts.member_country(country) if topic == "member_states" and country else None
    buttons = topic_buttons(facts, fact["related"], lang)
    if intent == "ask_more":
        return fact_reply(facts, topic, lang, part="long")
    if intent == "ask_source":
        sources, as_of = (member or fact)["sources"], (member or fact)["as_of"]
        text = facts.message("source", lang, sources=", ".join(sources), as_of=as_of)
        return Reply(text, buttons, topic=topic, country=country if member else None)
    # ask_since_when
    if member:
        separator = " : " if lang == "fr" else ": "
        text = f"{country_name(country, lang)}{separator}{member['since'][lang]}."
        return Reply(text, buttons, topic=topic, country=country)
    since = facts.text(topic, "since", lang)
    text = since or facts.message("no_since", lang, url=fact["sources"][0])
    return Reply(text, buttons, topic=topic)


_MARKUP = re.compile(r"<[^<>]*>")


# The message names IOM itself (by acronym, name or nickname, in any of the three languages).
_IOM_NAMED = re.compile(
    r"\b(iom|oim|international organi[sz]ation for migration|organisation internationale pour les "
    r"migrations|organizaci[oó]n internacional para las migraciones|un migration agency|agence des "
    r"nations unies pour les migrations|organismo de las naciones unidas para la migraci[oó]n)\b",
    re.IGNORECASE,
)
# Another organisation named (entity `other_organization`, data/nlu/organizations.yml).
OTHER_ORGANIZATION = "other_organization"
# Intents an answer about IOM would follow; asked about another organisation, they are off-topic.
# (Not a person's own situation: "UNHCR refused my asylum claim" still gets where to turn.)
_ABOUT_IOM_INTENTS = tuple(
    i for i in (*FACT_INTENTS, NOT_IN_FACTS_INTENT) if i not in (*FOLLOW_UP_INTENTS, "ask_personal_help")
)
# Intents a named office overrules: the classifier saw no question it could place.
_OVERRULED_BY_AN_OFFICE = ("nlu_fallback", "greet", "goodbye", "thanks", "bot_challenge", "help")
_LEADERSHIP_INTENTS = ("ask_office", "ask_leadership")


def resolve_intent(
    intent: str, entities: Iterable[Dict], ranking: Iterable[Dict] = (), text: str = ""
) -> str:
    """The intent to act on, correcting the classifier where the message says more than it.

    - A message that is nothing but markup (`<img src=x onerror=...>`) is not understood, whatever
      the classifier made of its attribute words.
    - A question that names another organisation and not IOM ("who is the director general of the
      WHO?", "où est le siège du HCR ?") is about that organisation: off-topic, not IOM's answer.
    - A named leadership office ("and the chief of staff?") is a question about that office when
      the classifier placed the message nowhere (not understood, small talk) or took it for a
      country fragment naming no country. "Off-topic" stays off-topic: another organisation has
      directors and chiefs of staff too ("who is the White House chief of staff?").
    - A bare follow-up classified as a country fragment but naming no country ("et le siège ?")
      is the next most likely fact question, if the classifier gave that one at least the
      fallback threshold; an unknown name ("et le Wakanda ?") stays a country fragment.
    """
    ranking = list(ranking)
    if "<" in text and not any(c.isalpha() for c in _MARKUP.sub("", text)):
        return "nlu_fallback"
    if (
        intent in _ABOUT_IOM_INTENTS
        and _entity_values(entities, OTHER_ORGANIZATION)
        and not _IOM_NAMED.search(text)
    ):
        return "out_of_scope"
    if _office_fact(entities) and (
        intent in _OVERRULED_BY_AN_OFFICE
        or (intent == "inform_country" and not _entity_values(entities, "country"))
    ):
        return "ask_office"
    if intent == "inform_country" and not _entity_values(entities, "country"):
        for candidate in ranking[1:3]:
            name = candidate.get("name")
            if (
                name in FACT_INTENTS
                and name != "inform_country"
                and (candidate.get("confidence") or 0) >= FALLBACK_THRESHOLD
            ):
                return name
    return intent


def suggestion_topic(intent: Optional[str], entities: Iterable[Dict]) -> Optional[str]:
    """The topic a button would offer for a ranked intent (None: nothing to offer)."""
    if intent in SIMPLE_FACT_INTENTS:
        return SIMPLE_FACT_INTENTS[intent]
    if intent in _LEADERSHIP_INTENTS:
        office = _office_fact(entities)
        if intent == "ask_office":
            office = office or _office_fact(entities, OFFICE_FUNCTION)
        return office if office in OFFICE_FACTS else "leadership"
    if intent == "inform_country":
        return "member_states"
    return None


def suggested_topics(
    ranking: Iterable[Dict], entities: Iterable[Dict] = (), floor: float = SUGGESTION_FLOOR
) -> List[str]:
    """Up to MAX_SUGGESTIONS topics the classifier ranked highest, each at `floor` or above."""
    topics: List[str] = []
    for candidate in ranking:
        if (candidate.get("confidence") or 0) < floor:
            continue
        topic = suggestion_topic(candidate.get("name"), entities)
        if topic and topic not in topics:
            topics.append(topic)
    return topics[:MAX_SUGGESTIONS]


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
    if intent in COUNTRY_INTENTS:
        countries = _entity_values(entities, "country")
        if countries:
            return country_reply(facts, countries[0], lang)
        if intent == "inform_country":
            buttons = topic_buttons(facts, ["member_states", "presence"], lang)
            return Reply(facts.message("country_unknown", lang), buttons, topic="member_states")
    if intent in _LEADERSHIP_INTENTS:
        office = _office_fact(entities)
        if intent == "ask_office":
            # "Who handles operations?": the office named by what it does.
            office = office or _office_fact(entities, OFFICE_FUNCTION)
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
