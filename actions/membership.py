"""Membership and presence sentences: whether a country is a Member or Observer State of IOM, since
when, on what source, and where IOM is for that country (facts/states.tsv and the facts file)."""

from __future__ import annotations

from datetime import date
from typing import Dict, Iterable, Optional

from babel import Locale
from babel.dates import format_date, format_skeleton

from actions.facts import Facts, State
from components.countries import fold, is_country_code, is_un_state

LABEL_SEPARATORS = {"fr": " : ", "en": ": ", "es": ": "}


def country_name(code: str, lang: str, facts: Optional[Facts] = None) -> Optional[str]:
    """The country's usual (CLDR) name in `lang`, or the facts file's where it gives one (Holy
    See, the two Congos); None for anything that is not an ISO 3166 country code: region codes
    (EU, UN, 419) and entity values typed in a payload are never echoed back."""
    if not is_country_code(code):
        return None
    return (facts and facts.country_name(code, lang)) or Locale(lang).territories.get(code)


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


def source_text(facts: Facts, code: str, lang: str) -> str:
    row = facts.state(code)
    if row is not None:
        return _row_source(facts, row, lang)
    counts = _counts(facts, lang)
    return facts.message("list_source", lang, url=counts["url"], as_of=counts["as_of"])


def membership_text(facts: Facts, code: str, lang: str) -> str:
    """Whether the country is a Member State, an Observer State or not on the list, and the source."""
    return f"{_status_text(facts, code, lang)}\n\n{source_text(facts, code, lang)}"


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
