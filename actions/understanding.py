"""What the user asked: the intent to act on and the topics worth suggesting, as plain functions of
what the NLU gave (intent, entities, ranking, text).

The classifier is corrected here where the message says more than it (a named office, another
organisation named, markup only); actions/answers.py then replies to the resolved intent.
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional

from components.countries import is_country_code

# Intents answered by exactly one fact: ask_<fact id>.
SIMPLE_FACT_INTENTS = {
    f"ask_{fact_id}": fact_id
    for fact_id in (
        "identity", "history", "un_system", "member_states", "presence", "headquarters",
        "languages", "leadership", "our_work", "agenda_2030", "xenophobia", "covid19",
        "partnerships", "careers", "get_involved", "data_research", "voluntary_return",
        "visas", "trafficking", "global_compact", "personal_help", "report_misconduct",
        "travel_loans", "contact", "asylum", "key_terms",
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
# Questions on the states list as a whole ("which are the observer states?", "who joined last?").
STATES_LIST_INTENTS = ("ask_observer_states", "ask_newest_members")
FOLLOW_UP_INTENTS = ("ask_more", "ask_source", "ask_since_when")
FACT_INTENTS = (
    *SIMPLE_FACT_INTENTS, "ask_office", "inform_country", *STATES_LIST_INTENTS, *FOLLOW_UP_INTENTS
)
# Countries answered in one reply ("le Niger et le Nigeria ?", a bare "Congo" names two).
MAX_COUNTRIES = 3

SMALL_TALK_INTENTS = ("greet", "goodbye", "thanks", "bot_challenge", "help", "out_of_scope")
# A question about IOM that no fact answers (budget, staff numbers...): said so, never the
# nearest topic. Its reply sets no topic.
NOT_IN_FACTS_INTENT = "ask_not_in_facts"
# Asked for IOM's or the assistant's view of a government's policy: no opinion is given, and
# what can be told instead is offered. Its reply sets no topic.
OPINION_INTENT = "ask_opinion"
# A person's own situation (entity `situation`, data/nlu/situations.yml), read with this intent.
PERSONAL_HELP_INTENT = "ask_personal_help"
SITUATION = "situation"
# A migration term (entity `term`, data/nlu/terms.yml), read with ask_key_terms.
TERM = "term"

# FallbackClassifier's threshold in config.yml (tests/test_actions.py checks they agree): under
# it the classifier's guess is not trusted, so no other intent is taken at a lower confidence.
FALLBACK_THRESHOLD = 0.25
# The lowest classifier confidence at which a topic is offered as a suggestion when a message is not
# understood. Measured by bench/suggestion_floor.py on unsure hold-out messages (docs/testing.md,
# "When unsure, suggest"): from 0.08 up, 21% of the ranked topics were the right one, twice a
# starter topic's 11%; between 0.02 and 0.08, 12%, no better than a starter.
SUGGESTION_FLOOR = 0.08
MAX_SUGGESTIONS = 3


def country_codes(entities: Iterable[Dict]) -> List[str]:
    """The distinct country codes among the entities, in order, at most MAX_COUNTRIES."""
    codes: List[str] = []
    for value in _entity_values(entities, "country"):
        if is_country_code(value) and value not in codes:
            codes.append(value)
    return codes[:MAX_COUNTRIES]


def _entity_values(entities: Iterable[Dict], name: str) -> List[str]:
    return [e.get("value") for e in entities or [] if e.get("entity") == name and e.get("value")]


def _contains(outer: Dict, inner: Dict) -> bool:
    """Whether entity `outer` covers a longer span of the text that includes `inner`'s."""
    try:
        return (
            outer["start"] <= inner["start"] and inner["end"] <= outer["end"]
            and outer["end"] - outer["start"] > inner["end"] - inner["start"]
        )
    except (KeyError, TypeError):
        return False  # a button payload's entity has no position


def office_fact(entities: Iterable[Dict], entity: str = "office") -> Optional[str]:
    offices = [
        e for e in entities or []
        if e.get("entity") == entity and (e.get("value") in OFFICE_FACTS or e.get("value") == ANY_DEPUTY)
    ]
    # Each office table (data/nlu/lookups.yml, data/nlu/office_names_es.yml) finds its own longest
    # match, so "director general adjunto" also yields "director general": a match inside a
    # longer one is not what the user named.
    for entity in offices:
        if not any(_contains(other, entity) for other in offices if other is not entity):
            return entity["value"]
    return None



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
# Not these, where naming another organisation is part of the question: a person's own situation
# ("UNHCR refused my asylum claim" still gets where to turn), asylum (UNHCR's role beside IOM's),
# a term (UNHCR's definition of a refugee), US travel loans (the State Department's funds).
_NAMES_OTHERS = (PERSONAL_HELP_INTENT, "ask_asylum", "ask_key_terms", "ask_travel_loans")
_ABOUT_IOM_INTENTS = tuple(
    i for i in (*FACT_INTENTS, NOT_IN_FACTS_INTENT) if i not in (*FOLLOW_UP_INTENTS, *_NAMES_OTHERS)
)
# Intents a named office overrules: the classifier saw no question it could place.
_OVERRULED_BY_AN_OFFICE = ("nlu_fallback", "greet", "goodbye", "thanks", "bot_challenge", "help")
LEADERSHIP_INTENTS = ("ask_office", "ask_leadership")


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
    - A message that names IOM is never answered "I only answer questions about IOM": taken for
      off-topic, it is not understood instead (the reply offers the nearest topics).
    - "Who heads IOM in Kenya?", "who is the head of IOM in Kenya?": a question about who leads
      IOM that names a country, and no leadership office or one followed by "in <country>", is
      about IOM in that country (its office there), not the Director General.
    """
    ranking = list(ranking)
    if "<" in text and not any(c.isalpha() for c in _MARKUP.sub("", text)):
        return "nlu_fallback"
    if intent == "out_of_scope" and _IOM_NAMED.search(text) and not _entity_values(entities, OTHER_ORGANIZATION):
        return "nlu_fallback"
    if (
        intent in _ABOUT_IOM_INTENTS
        and _entity_values(entities, OTHER_ORGANIZATION)
        and not _IOM_NAMED.search(text)
    ):
        return "out_of_scope"
    if intent in LEADERSHIP_INTENTS and country_codes(entities) and (
        not office_fact(entities) or _office_in_a_country(entities, text)
    ):
        return "ask_presence"
    if office_fact(entities) and (
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


# "<office> in <country>": the words allowed between a named office and the country after it.
_IN_A_COUNTRY = re.compile(r"^\s*(in|for|at|en|au|aux|à|a|pour|para|de|del)(\s+(the|la|le|les|l'|el))?\s*$", re.I)


def _office_in_a_country(entities: Iterable[Dict], text: str) -> bool:
    """Whether a named office is followed by "in <country>" ("the head of IOM in Kenya")."""
    offices = [e for e in entities or [] if e.get("entity") == "office" and isinstance(e.get("end"), int)]
    countries = [e for e in entities or [] if e.get("entity") == "country" and isinstance(e.get("start"), int)]
    return any(
        0 <= c["start"] - o["end"] <= 12 and _IN_A_COUNTRY.match(text[o["end"]:c["start"]])
        for o in offices for c in countries
    )


def suggestion_topic(intent: Optional[str], entities: Iterable[Dict]) -> Optional[str]:
    """The topic a button would offer for a ranked intent (None: nothing to offer)."""
    if intent in SIMPLE_FACT_INTENTS:
        return SIMPLE_FACT_INTENTS[intent]
    if intent in LEADERSHIP_INTENTS:
        office = office_fact(entities)
        if intent == "ask_office":
            office = office or office_fact(entities, OFFICE_FUNCTION)
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


def situation(entities: Iterable[Dict]) -> Optional[str]:
    """The person's situation the message names first (entity `situation`), if any."""
    found = [e for e in entities or [] if e.get("entity") == SITUATION and e.get("value")]
    found.sort(key=lambda e: e.get("start") if isinstance(e.get("start"), int) else 0)
    return found[0]["value"] if found else None


def terms(entities: Iterable[Dict]) -> List[str]:
    """The migration terms named (entity `term`), distinct, in the order of the message: "the
    difference between X and Y" names two."""
    found = [e for e in entities or [] if e.get("entity") == TERM and e.get("value")]
    found.sort(key=lambda e: e.get("start") if isinstance(e.get("start"), int) else 0)
    values: List[str] = []
    for entity in found:
        if entity["value"] not in values:
            values.append(entity["value"])
    return values


# The writer speaks of themselves or of someone close ("I", "my", "je", "mon", "yo", "mi"...):
# a message about exploitation written like this is a person's situation, not a question on
# IOM's work against trafficking.
_FIRST_PERSON = re.compile(
    r"\b(i|i'm|im|i've|me|my|myself|we|us|our|je|j|me|m|moi|mon|ma|mes|nous|notre|nos|yo|mi|mis|"
    r"conmigo|nosotros|nosotras|nuestro|nuestra|nuestros|nuestras)\b",
    re.IGNORECASE,
)


# Ways of asking that use "me" / "I" without speaking of oneself ("tell me what IOM does",
# "je voudrais savoir", "¿me puedes decir...?"): set aside before looking for the first person.
_REQUEST = re.compile(
    r"\b(tell|give|show|explain|send)\s+me\b|\bi\s*(want|would like|'d like|wonder|wanted)\s*(to\s+)?"
    r"(know|understand|ask|learn)?\b|"
    r"\b(dites|dis|expliquez|explique|montrez|donnez)-moi\b|\b(pouvez|pourriez|peux|pourrais)-(vous|tu)\s+m[e']\s*|"
    r"\bj[e']\s*(voudrais|veux|aimerais|souhaite|me demande)\s*(savoir|comprendre|demander)?\b|"
    r"\b(dime|d[ií]game|cu[eé]ntame|expl[ií]came|decime|contame)\b|"
    r"\bme\s+(puedes|puede|podr[ií]as|podr[ií]a|pueden|podr[ií]an)\s+(decir|explicar|contar)\b|"
    r"\b(quiero|quisiera|me gustar[ií]a)\s+(saber|entender|preguntar)\b",
    re.IGNORECASE,
)


def speaks_of_self(text: str) -> bool:
    """Whether the message is written in the first person (I, my, je, mon, yo, mi...), leaving
    aside polite ways of asking ("tell me", "je voudrais savoir", "dime")."""
    text = re.sub(r"\bUS\b", " ", (text or "").replace("’", "'"))  # the United States, not "us"
    return bool(_FIRST_PERSON.search(_REQUEST.sub(" ", text)))
