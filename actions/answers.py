"""What the assistant replies, as plain functions of (facts, what the user asked, conversation state).

The action classes in actions.py only read the tracker and turn a `Reply` into events; every
decision about which fact answers which question lives here, so it can be tested without Rasa.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Dict, Iterable, List, Optional

from babel import Locale
from babel.dates import format_date, format_skeleton

from actions.facts import Facts, State
from components.countries import fold, is_country_code, is_un_state

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
# nearest topic. Answered by action_small_talk: it sets no topic.
NOT_IN_FACTS_INTENT = "ask_not_in_facts"
# Topics offered when the user has not picked one yet (greeting, help, fallback).
STARTER_TOPICS = ("identity", "leadership", "member_states")
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


def country_name(code: str, lang: str, facts: Optional[Facts] = None) -> Optional[str]:
    """The country's usual (CLDR) name in `lang`, or the facts file's where it gives one (Holy
    See, the two Congos); None for anything that is not an ISO 3166 country code: region codes
    (EU, UN, 419) and entity values typed in a payload are never echoed back."""
    if not is_country_code(code):
        return None
    return (facts and facts.country_name(code, lang)) or Locale(lang).territories.get(code)


def _country_codes(entities: Iterable[Dict]) -> List[str]:
    """The distinct country codes among the entities, in order, at most MAX_COUNTRIES."""
    codes: List[str] = []
    for value in _entity_values(entities, "country"):
        if is_country_code(value) and value not in codes:
            codes.append(value)
    return codes[:MAX_COUNTRIES]


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


def _office_fact(entities: Iterable[Dict], entity: str = "office") -> Optional[str]:
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


def _deputies_reply(facts: Facts, lang: str) -> Reply:
    # "and the deputy?": there are two; name both, the one with a sourced holder first.
    parts = [facts.message("deputies", lang)]
    parts += [facts.text(fid, "short", lang) for fid in ("ddg_operations", "ddg_management_reform")]
    related = ["ddg_management_reform", "director_general", "leadership"]
    return Reply(
        "\n\n".join(parts), topic_buttons(facts, related, lang), topic="ddg_operations"
    )


def _date(as_of: str, lang: str) -> str:
    """'2024-08' -> 'August 2024' / 'août 2024' / 'agosto de 2024'; a bare year stays as it is."""
    parts = [int(p) for p in as_of.split("-")]
    if len(parts) == 1:
        return as_of
    if len(parts) == 2:
        return format_skeleton("yMMMM", date(parts[0], parts[1], 1), locale=lang)
    return format_date(date(*parts), "long", locale=lang)


def _counts(facts: Facts, lang: str) -> Dict[str, object]:
    settings = facts.states_list
    return {
        "members": settings["members"], "observers": settings["observers"],
        "as_of": _date(settings["as_of"], lang), "url": settings["official_list"],
    }


def _row_source(facts: Facts, row: State, lang: str) -> str:
    """The source of one state's row (or of its note), with the page's date or "no date"."""
    note = facts.country_note(row.code)
    sources, as_of = (note["sources"], note.get("as_of")) if note else ([row.source_url], row.as_of)
    url = ", ".join(sources)
    if as_of:
        text = facts.message("state_source", lang, url=url, as_of=_date(as_of, lang))
    else:
        text = facts.message("state_source_undated", lang, url=url)
    if row.evidence == "encyclopedia" and not note:
        text += " " + facts.message("encyclopedia_note", lang, url=facts.states_list["official_list"])
    return text


def _status_text(facts: Facts, code: str, lang: str) -> str:
    """One sentence on a country's place in the states list: member, observer, or not on it."""
    name = country_name(code, lang, facts)
    row, note = facts.state(code), facts.country_note(code)
    counts = _counts(facts, lang)
    if row is None:
        key = "state_not_listed" if is_un_state(code) else "territory_not_listed"
        return facts.message(key, lang, country=name, **counts)
    if row.status == "member":
        if note:
            return facts.message("country_member", lang, country=name, note=note["note"][lang])
        if row.since:
            return facts.message("state_member_since", lang, country=name, members=counts["members"], year=row.since)
        return facts.message("state_member", lang, country=name, members=counts["members"])
    if row.since:
        text = facts.message("state_observer_since", lang, country=name, observers=counts["observers"], year=row.since)
    else:
        text = facts.message("state_observer", lang, country=name, observers=counts["observers"])
    return f"{text} {note['note'][lang]}" if note else text


def _source_text(facts: Facts, code: str, lang: str) -> str:
    row = facts.state(code)
    if row is not None:
        return _row_source(facts, row, lang)
    counts = _counts(facts, lang)
    return facts.message("list_source", lang, url=counts["url"], as_of=counts["as_of"])


def membership_text(facts: Facts, code: str, lang: str) -> str:
    """Whether the country is a Member State, an Observer State or not on the list, and the source."""
    return f"{_status_text(facts, code, lang)}\n\n{_source_text(facts, code, lang)}"


def presence_text(facts: Facts, code: str, lang: str) -> str:
    """Where to find IOM's office for the country (the country offices page, and IOM's own site for
    it where a source shows one), then its membership with the source."""
    name = country_name(code, lang, facts)
    parts = [facts.message("presence_country", lang, country=name, url=facts.states_list["country_offices"])]
    site = facts.country_site(code)
    if site:
        parts.append(facts.message("presence_site", lang, country=name, site=site))
    return "\n".join(parts) + "\n\n" + membership_text(facts, code, lang)


def since_text(facts: Facts, code: str, lang: str) -> str:
    """"Since when?" after a question about a country: the year the source gives, or that none is given."""
    name = country_name(code, lang, facts)
    row, note = facts.state(code), facts.country_note(code)
    official = facts.states_list["official_list"]
    if row is None:
        return facts.message("not_listed_since", lang, country=name, url=official)
    if note:
        text = f"{name}{LABEL_SEPARATORS.get(lang, ': ')}{note['since'][lang]}."
    elif row.since:
        text = _status_text(facts, code, lang)
    else:
        return facts.message("state_since_unknown", lang, country=name, url=official)
    return f"{text}\n\n{_row_source(facts, row, lang)}"


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


def _sources_line(facts: Facts, rows: Iterable[State], lang: str) -> str:
    seen: Dict[str, Optional[str]] = {}
    for row in rows:
        seen.setdefault(row.source_url, row.as_of)
    items = [f"{url} ({_date(as_of, lang)})" if as_of else url for url, as_of in seen.items()]
    return facts.message("sources_list", lang, sources=", ".join(items))


def observer_list_text(facts: Facts, lang: str) -> str:
    """The Observer States of the list, by name in the reply's language, with their sources."""
    rows = facts.states.observers
    names = sorted((country_name(row.code, lang, facts) for row in rows), key=fold)
    counts = _counts(facts, lang)
    text = facts.message("observer_list", lang, observers=len(rows), names=", ".join(names), as_of=counts["as_of"])
    text += "\n\n" + _sources_line(facts, rows, lang)
    if any(row.evidence == "encyclopedia" for row in rows):
        text += " " + facts.message("encyclopedia_note", lang, url=counts["url"])
    return text


def observer_list_reply(facts: Facts, lang: str) -> Reply:
    buttons = topic_buttons(facts, ["member_states", "presence"], lang)
    return Reply(observer_list_text(facts, lang), buttons, topic="member_states")


def newest_members_text(facts: Facts, lang: str) -> str:
    """The latest admissions among the Member States whose year of joining the list gives."""
    known = [row for row in facts.states.members if row.since]
    latest_years = sorted({row.since for row in known}, reverse=True)[:3]
    rows = sorted(
        (row for row in known if row.since in latest_years),
        key=lambda row: (-row.since, fold(country_name(row.code, lang, facts))),
    )
    names = ", ".join(f"{country_name(row.code, lang, facts)} ({row.since})" for row in rows)
    counts = _counts(facts, lang)
    text = facts.message(
        "newest_members", lang, known=len(known), members=counts["members"], names=names, url=counts["url"]
    )
    return text + "\n\n" + _sources_line(facts, rows, lang)


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
        text = _source_text(facts, country, lang) if intent == "ask_source" else since_text(facts, country, lang)
        return Reply(text, buttons, topic=topic, country=country)
    if intent == "ask_source":
        text = facts.message("source", lang, sources=", ".join(facts.sources(topic, lang)), as_of=fact["as_of"])
        return Reply(text, buttons, topic=topic)
    # ask_since_when
    since = facts.text(topic, "since", lang)
    text = since or facts.message("no_since", lang, url=facts.sources(topic, lang)[0])
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
    countries = _country_codes(entities)
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
