"""Membership and presence sentences: whether a country is a Member or Observer State of IOM, since
when, on what source, and where IOM is for that country (facts/states.tsv and the facts file)."""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple
from urllib.parse import urlsplit

from babel import Locale

from actions.fact_dates import as_of_text
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


def _counts(facts: Facts, lang: str) -> Dict[str, object]:
    settings = facts.states_list
    return {
        "members": settings["members"], "observers": settings["observers"],
        "as_of": as_of_text(settings["as_of"], lang), "url": settings["official_list"],
    }


def site_of(url: str) -> str:
    """The site a URL is on, as people know it: 'https://www.tass.com/x' -> 'tass.com'."""
    host = (urlsplit(url).hostname or url).lower()
    return host[4:] if host.startswith("www.") else host


def source_kind(facts: Facts, url: str, evidence: str) -> str:
    """What a state's source is: iom (a page of IOM's own sites), government_or_un, news,
    encyclopedia, or copy (an IOM document on another site: `evidence` iom, but not IOM's site)."""
    if evidence in ("news", "government_or_un", "encyclopedia"):
        return evidence
    site = site_of(url)
    own_sites = facts.states_list.get("iom_sites", [])
    if site == "iom.int" or site.endswith(".iom.int") or site in own_sites:
        return "iom"
    return "copy"


def source_line(facts: Facts, url: str, evidence: str, as_of: Optional[str], lang: str) -> str:
    """One source of the states list, said for what it is, with its date: "Source: an IOM page,
    August 2024: <url>", "Reported by tass.com, April 2021: <url>"."""
    date = as_of_text(as_of, lang) if as_of else facts.message("source_undated", lang)
    kind = source_kind(facts, url, evidence)
    return facts.message(f"state_source_{kind}", lang, url=url, date=date, site=site_of(url))


def _row_sources(facts: Facts, row: State) -> List[Tuple[str, Optional[str]]]:
    """The pages behind a state's answer, with their dates: its note's sources if it has one
    (France, Russia), else its row's."""
    note = facts.country_note(row.code)
    if note:
        return [(url, note.get("as_of")) for url in note["sources"]]
    return [(row.source_url, row.as_of)]


def _row_source(facts: Facts, row: State, lang: str) -> str:
    """The source of one state's answer said for what it is, with its date, then the official list."""
    lines = [source_line(facts, url, row.evidence, as_of, lang) for url, as_of in _row_sources(facts, row)]
    if row.evidence == "encyclopedia" and not facts.country_note(row.code):
        lines.append(facts.message("encyclopedia_note", lang))
    lines.append(facts.message("official_list", lang, url=facts.states_list["official_list"]))
    return "\n".join(lines)


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
            return facts.message(
                "state_member_since", lang, country=name, members=counts["members"], as_of=counts["as_of"], year=row.since
            )
        return facts.message("state_member", lang, country=name, members=counts["members"], as_of=counts["as_of"])
    if row.since:
        text = facts.message(
            "state_observer_since", lang, country=name, observers=counts["observers"], as_of=counts["as_of"], year=row.since
        )
    else:
        text = facts.message("state_observer", lang, country=name, observers=counts["observers"], as_of=counts["as_of"])
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


def _sources_lines(facts: Facts, rows: Iterable[State], lang: str) -> str:
    """The sources of several states, each page once, each said for what it is, then the official
    list (and the encyclopedia note where a row rests on it alone)."""
    seen: Dict[str, State] = {}
    for row in rows:
        seen.setdefault(row.source_url, row)
    lines = [source_line(facts, url, row.evidence, row.as_of, lang) for url, row in seen.items()]
    if any(row.evidence == "encyclopedia" for row in seen.values()):
        lines.append(facts.message("encyclopedia_note", lang))
    lines.append(facts.message("official_list", lang, url=facts.states_list["official_list"]))
    return "\n".join(lines)


def observer_list_text(facts: Facts, lang: str) -> str:
    """The Observer States of the list, by name in the reply's language, with their sources."""
    rows = facts.states.observers
    names = sorted((country_name(row.code, lang, facts) for row in rows), key=fold)
    counts = _counts(facts, lang)
    text = facts.message("observer_list", lang, observers=len(rows), names=", ".join(names), as_of=counts["as_of"])
    return text + "\n\n" + _sources_lines(facts, rows, lang)


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
        "newest_members", lang, known=len(known), members=counts["members"], names=names, url=counts["url"],
        as_of=counts["as_of"],
    )
    return text + "\n\n" + _sources_lines(facts, rows, lang)
