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
        "visas", "trafficking", "global_compact",
    )
}
OFFICE_FACTS = (
    "director_general", "ddg_management_reform", "ddg_operations", "chief_of_staff",
    "office_partnerships", "office_strategy",
)
# The office entity's value when the user says "the deputy" without saying which one.
ANY_DEPUTY = "ddg"
COUNTRY_INTENTS = ("ask_member_states", "inform_country")
FOLLOW_UP_INTENTS = ("ask_more", "ask_source", "ask_since_when")
FACT_INTENTS = (*SIMPLE_FACT_INTENTS, "ask_office", "inform_country", *FOLLOW_UP_INTENTS)

SMALL_TALK_INTENTS = ("greet", "goodbye", "thanks", "bot_challenge", "help", "out_of_scope")
# Topics offered when the user has not picked one yet (greeting, help, fallback).
STARTER_TOPICS = ("identity", "leadership", "member_states")
MEMBER_LIST_URL = "https://www.iom.int/member-states"


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


# How each language writes "Source: <url>" under an answer (French puts a space before the colon).
SOURCE_LABELS = {"fr": "Source :", "en": "Source:", "es": "Fuente:"}
LABEL_SEPARATORS = {"fr": " : ", "en": ": ", "es": ": "}


def _with_source(text: str, sources: List[str], lang: str) -> str:
    return f"{text}\n\n{SOURCE_LABELS.get(lang, 'Source:')} {sources[0]}"


def fact_reply(facts: Facts, fact_id: str, lang: str, part: str = "short") -> Reply:
    fact = facts.fact(fact_id)
    text = _with_source(facts.text(fact_id, part, lang), facts.sources(fact_id, lang), lang)
    return Reply(text, topic_buttons(facts, fact["related"], lang), topic=fact_id)


def _contains(outer: Dict, inner: Dict) -> bool:
    """Whether entity `outer` covers a longer span of the text that includes `inner`'s."""
    try:
        return (
            outer["start"] <= inner["start"] and inner["end"] <= outer["end"]
            and outer["end"] - outer["start"] > inner["end"] - inner["start"]
        )
    except (KeyError, TypeError):
        return False  # a button payload's entity has no position


def _office_fact(entities: Iterable[Dict]) -> Optional[str]:
    offices = [
        e for e in entities or []
        if e.get("entity") == "office" and (e.get("value") in OFFICE_FACTS or e.get("value") == ANY_DEPUTY)
    ]
    # Each office table (data/nlu/lookups.yml, data/nlu/office_names_es.yml) finds its own longest
    # match, so "director general adjunto" also yields "director general": a match inside a
    # longer one is not what the user named.
    for entity in offices:
        if not any(_contains(other, entity) for other in offices if other is not entity):
            return entity["value"]
    return None


def _deputies_reply(facts: Facts, lang: str) -> Reply:
    # "and the deputy?": there are two; name both, the one with a sourced holder first.
    parts = [facts.message("deputies", lang)]
    parts += [facts.text(fid, "short", lang) for fid in ("ddg_operations", "ddg_management_reform")]
    related = ["ddg_management_reform", "director_general", "leadership"]
    return Reply(
        "\n\n".join(parts), topic_buttons(facts, related, lang), topic="ddg_operations"
    )


def _in_language(texts: Dict[str, str], lang: str) -> str:
    # member_countries notes may still lack Spanish (facts/schema.json, texts_es_pending).
    return texts.get(lang) or texts["en"]


def country_reply(facts: Facts, code: str, lang: str) -> Reply:
    name = country_name(code, lang)
    buttons = topic_buttons(facts, ["member_states", "presence"], lang)
    if name is None:
        return Reply(facts.message("country_unknown", lang), buttons, topic="member_states")
    member = facts.member_country(code)
    if member:
        text = facts.message("country_member", lang, country=name, note=_in_language(member["note"], lang))
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
        sources = member["sources"] if member else facts.sources(topic, lang)
        as_of = (member or fact)["as_of"]
        text = facts.message("source", lang, sources=", ".join(sources), as_of=as_of)
        return Reply(text, buttons, topic=topic, country=country if member else None)
    # ask_since_when
    if member:
        separator = LABEL_SEPARATORS.get(lang, ": ")
        text = f"{country_name(country, lang)}{separator}{_in_language(member['since'], lang)}."
        return Reply(text, buttons, topic=topic, country=country)
    since = facts.text(topic, "since", lang)
    text = since or facts.message("no_since", lang, url=facts.sources(topic, lang)[0])
    return Reply(text, buttons, topic=topic)


_MARKUP = re.compile(r"<[^<>]*>")


def resolve_intent(
    intent: str, entities: Iterable[Dict], ranking: Iterable[Dict] = (), text: str = ""
) -> str:
    """The intent to act on, correcting the classifier where the message says more than it.

    - A message that is nothing but markup (`<img src=x onerror=...>`) is not understood, whatever
      the classifier made of its attribute words.
    - A named leadership office ("and the chief of staff?") is a question about that office,
      whatever the classifier thought (off-topic, not understood, small talk).
    - A bare follow-up classified as a country fragment but naming no country ("et le siège ?")
      is the next most likely fact question, if there is a reasonably likely one.
    """
    if "<" in text and not any(c.isalpha() for c in _MARKUP.sub("", text)):
        return "nlu_fallback"
    if _office_fact(entities) and intent not in FACT_INTENTS:
        return "ask_office"
    if intent == "inform_country" and not _entity_values(entities, "country"):
        for candidate in list(ranking)[1:3]:
            name = candidate.get("name")
            if name in FACT_INTENTS and name != "inform_country" and candidate.get("confidence", 0) >= 0.1:
                return name
    return intent


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
    if intent in ("ask_office", "ask_leadership"):
        office = _office_fact(entities)
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


def not_understood_reply(facts: Facts, lang: str) -> Reply:
    return Reply(facts.message("not_understood", lang), topic_buttons(facts, STARTER_TOPICS, lang))


def small_talk_reply(facts: Facts, intent: str, lang: str) -> Reply:
    """Replies that are not facts: they never set the topic."""
    if intent not in SMALL_TALK_INTENTS:
        return not_understood_reply(facts, lang)
    text = facts.message(intent, lang)
    if intent in ("greet", "help", "out_of_scope"):
        return Reply(text, topic_buttons(facts, STARTER_TOPICS, lang))
    return Reply(text)
