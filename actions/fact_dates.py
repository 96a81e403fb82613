"""The `as_of` dates of the facts file: read, written out in the reader's language, and aged.

An `as_of` is YYYY, YYYY-MM or YYYY-MM-DD. For its age, a year or a month counts from its first
day: "2025" may have been read in January 2025, so it is as old as that (a fact is listed for a
re-check a little early rather than late).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, List, Optional, Tuple

from babel.dates import format_date, format_skeleton

DEFAULT_MAX_AGE_MONTHS = 12


def parse_max_age(text: Optional[str]) -> int:
    """An age limit in months as typed (FACTS_MAX_AGE_MONTHS, --max-age-months); empty: the default."""
    if text is None or not str(text).strip():
        return DEFAULT_MAX_AGE_MONTHS
    try:
        months = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number of months") from None
    if months < 0:
        raise ValueError(f"{text!r}: the age limit cannot be negative")
    return months


def as_of_start(as_of: str) -> date:
    """'2025' -> 2025-01-01, '2024-08' -> 2024-08-01, '2023-10-01' -> itself."""
    parts = [int(part) for part in as_of.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def as_of_text(as_of: str, lang: str) -> str:
    """'2024-08' -> 'August 2024' / 'août 2024' / 'agosto de 2024'; a bare year stays as it is."""
    parts = as_of.split("-")
    if len(parts) == 1:
        return as_of
    if len(parts) == 2:
        return format_skeleton("yMMMM", as_of_start(as_of), locale=lang)
    return format_date(as_of_start(as_of), "long", locale=lang)


def months_old(as_of: str, today: date) -> int:
    """Whole months from the start of `as_of` to `today` (0 for a date in the future)."""
    start = as_of_start(as_of)
    months = (today.year - start.year) * 12 + today.month - start.month - (today.day < start.day)
    return max(months, 0)


def _months_before(today: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day where it is shorter)."""
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    month += 1
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class ToRecheck:
    """A dated entry of the facts file older than the age limit, with the pages to check it on."""

    key: str  # a fact id, or "states_list" for the list of Member and Observer States as a whole
    as_of: str
    months: int
    sources: Tuple[str, ...]


def to_recheck(data: Dict[str, Any], today: date, max_age_months: int = DEFAULT_MAX_AGE_MONTHS) -> List[ToRecheck]:
    """Facts (and the states list) whose `as_of` is older than `max_age_months` on `today`,
    oldest first. `data` is the facts file as loaded (Facts.data)."""
    cutoff = _months_before(today, max_age_months)
    entries = []
    for fact_id, fact in data["facts"].items():
        sources = list(fact["sources"])
        for by_language in (fact.get("sources_by_language") or {}).values():
            sources += [url for url in by_language if url not in sources]
        entries.append((fact_id, fact["as_of"], sources))
    states_list = data["states_list"]
    entries.append(("states_list", states_list["as_of"], [states_list["official_list"]]))
    stale = [
        ToRecheck(key, as_of, months_old(as_of, today), tuple(sources))
        for key, as_of, sources in entries
        if as_of_start(as_of) < cutoff
    ]
    return sorted(stale, key=lambda entry: (as_of_start(entry.as_of), entry.key))
