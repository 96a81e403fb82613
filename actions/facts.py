"""Loads, validates and serves the facts file (facts/facts.yml) and the states list (facts/states.tsv).

The facts file is the single source of every answer. It is checked against facts/schema.json and
a few cross-references the schema cannot express. The states list, one row per IOM Member or
Observer State with its source, is checked row by row against facts/states.schema.json and its
counts against the facts file. `FactStore.current()` re-reads both files when either changes on
disk, so a content editor's fix is live on the next message, and keeps serving the last good
version (logging why) when an edit is invalid.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import string
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import jsonschema
import pycountry
import yaml

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FACTS_PATH = PROJECT_ROOT / "facts" / "facts.yml"
SCHEMA_PATH = PROJECT_ROOT / "facts" / "schema.json"
DEFAULT_STATES_PATH = PROJECT_ROOT / "facts" / "states.tsv"
STATES_SCHEMA_PATH = PROJECT_ROOT / "facts" / "states.schema.json"
STATES_COLUMNS = ("iso2", "name_en", "status", "since", "source_url", "as_of", "evidence")
LANGUAGES = ("fr", "en", "es")

# Placeholders each message must keep, so an edit cannot silently drop the filled-in part.
REQUIRED_PLACEHOLDERS = {
    "no_since": {"url"},
    "source": {"sources", "as_of"},
    "answer_source": {"url", "as_of"},
    "country_member": {"country", "note"},
    "too_long": {"limit"},
    "state_member": {"country", "members", "as_of"},
    "state_member_since": {"country", "members", "as_of", "year"},
    "state_observer": {"country", "observers", "as_of"},
    "state_observer_since": {"country", "observers", "as_of", "year"},
    "state_not_listed": {"country", "members", "observers", "as_of", "url"},
    "territory_not_listed": {"country", "members", "observers", "as_of", "url"},
    "state_source_iom": {"url", "date"},
    "state_source_government_or_un": {"url", "date"},
    "state_source_news": {"site", "url", "date"},
    "state_source_copy": {"site", "url", "date"},
    "state_source_encyclopedia": {"url", "date"},
    "official_list": {"url"},
    "state_since_unknown": {"country", "url"},
    "not_listed_since": {"country", "url"},
    "list_source": {"url", "as_of"},
    "observer_list": {"observers", "names", "as_of"},
    "newest_members": {"known", "members", "names", "url", "as_of"},
    "presence_country": {"country", "url"},
    "presence_site": {"country", "site"},
    "slow_down": {"seconds"},
}


class FactsError(ValueError):
    """An invalid facts file: says which file, which key and what is wrong."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.path}: {key}: {problem}")


def _key_path(parts: Iterable[Any]) -> str:
    return ".".join(str(p) for p in parts) or "(top level)"


def _placeholders(template: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class State:
    """One row of the states list (empty cells are None)."""

    code: str
    name_en: str
    status: str  # member | observer
    since: Optional[int]
    source_url: str
    as_of: Optional[str]
    evidence: str


@dataclass(frozen=True)
class States:
    """The Member and Observer States of the states list, by ISO code, in file order."""

    rows: Dict[str, State]

    def get(self, code: Optional[str]) -> Optional[State]:
        return self.rows.get(code) if isinstance(code, str) else None

    def with_status(self, status: str) -> List[State]:
        return [row for row in self.rows.values() if row.status == status]

    @property
    def members(self) -> List[State]:
        return self.with_status("member")

    @property
    def observers(self) -> List[State]:
        return self.with_status("observer")


@dataclass(frozen=True)
class Facts:
    """One validated version of the facts file and states list, with the look-ups the actions need."""

    data: Dict[str, Any]
    states: States

    @property
    def fact_ids(self) -> List[str]:
        return list(self.data["facts"])

    def fact(self, fact_id: str) -> Dict[str, Any]:
        return self.data["facts"][fact_id]

    def has_fact(self, fact_id: Optional[str]) -> bool:
        return bool(fact_id) and fact_id in self.data["facts"]

    def text(self, fact_id: str, part: str, lang: str) -> Optional[str]:
        """`part` is short, long, since or title; None when the fact has no such part."""
        value = self.fact(fact_id).get(part)
        return value[lang] if value else None

    def sources(self, fact_id: str, lang: str) -> List[str]:
        """The sources to cite in `lang`: its own list in `sources_by_language` (the same content
        on a page in that language) if the fact has one, else `sources`."""
        fact = self.fact(fact_id)
        return (fact.get("sources_by_language") or {}).get(lang) or fact["sources"]

    def message(self, key: str, lang: str, **values: Any) -> str:
        return self.data["messages"][key][lang].format(**values)

    @property
    def states_list(self) -> Dict[str, Any]:
        """The facts file's settings for the states list: counts, date, official pages."""
        return self.data["states_list"]

    def state(self, code: Optional[str]) -> Optional[State]:
        return self.states.get(code)

    def country_note(self, code: Optional[str]) -> Optional[Dict[str, Any]]:
        """What the sources say about one state beyond its row (France's history, ...)."""
        return self.data["country_notes"].get(code) if isinstance(code, str) else None

    def country_site(self, code: Optional[str]) -> Optional[str]:
        """IOM's own site for that country, only where a source shows it."""
        return self.data["country_sites"].get(code) if isinstance(code, str) else None

    def country_name(self, code: str, lang: str) -> Optional[str]:
        """The facts file's name for a country where CLDR's is not the one to use (Holy See...)."""
        names = self.data["country_names"].get(code)
        return names.get(lang) if names else None

    def office_holder(self, fact_id: str) -> Optional[str]:
        for office in self.data["leadership_offices"]:
            if office["fact"] == fact_id:
                return office.get("holder")
        return None


class _FactsLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as the text the editor wrote (as_of: 2024-05-07 stays a string)."""


_FactsLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_schema() -> Dict[str, Any]:
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        return json.load(handle)


_VALIDATOR = jsonschema.Draft202012Validator(_load_schema())
with open(STATES_SCHEMA_PATH, encoding="utf-8") as _handle:
    _STATE_VALIDATOR = jsonschema.Draft202012Validator(json.load(_handle))


def parse_states(text: str, path: Path | str = DEFAULT_STATES_PATH) -> States:
    """Parse and validate the states list (TSV); raises FactsError naming the line and the column."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise FactsError(path, "(file)", "no header line")
    header_line, header = lines[0]
    if tuple(header.split("\t")) != STATES_COLUMNS:
        raise FactsError(path, f"line {header_line}", f"the header must be: {' '.join(STATES_COLUMNS)} (tab-separated)")
    rows: Dict[str, State] = {}
    for number, line in lines[1:]:
        cells = next(csv.reader([line], delimiter="\t", quoting=csv.QUOTE_NONE))
        if len(cells) != len(STATES_COLUMNS):
            raise FactsError(path, f"line {number}", f"{len(cells)} tab-separated columns, expected {len(STATES_COLUMNS)}")
        row = {column: cell.strip() for column, cell in zip(STATES_COLUMNS, cells) if cell.strip()}
        where = f"line {number} ({row.get('iso2', '?')})"
        errors = sorted(_STATE_VALIDATOR.iter_errors(row), key=lambda e: list(e.absolute_path))
        if errors:
            error = errors[0]
            raise FactsError(path, _key_path([where, *error.absolute_path]), error.message)
        code = row["iso2"]
        if pycountry.countries.get(alpha_2=code) is None:
            raise FactsError(path, f"{where}.iso2", f"'{code}' is not an ISO 3166-1 country code")
        if code in rows:
            raise FactsError(path, f"{where}.iso2", f"'{code}' is listed twice")
        since = int(row["since"]) if "since" in row else None
        as_of = row.get("as_of")
        if since is not None and as_of and since > int(as_of[:4]):
            raise FactsError(path, f"{where}.since", f"{since} is later than the source's date {as_of}")
        rows[code] = State(code, row["name_en"], row["status"], since, row["source_url"], as_of, row["evidence"])
    return States(rows)


def load_states(path: Path | str = DEFAULT_STATES_PATH) -> States:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FactsError(path, "(file)", f"cannot read: {error}")
    return parse_states(text, path)


def parse_facts(
    text: str, path: Path | str = DEFAULT_FACTS_PATH, states: Optional[States] = None
) -> Facts:
    """Parse and validate facts YAML; raises FactsError naming the key and the problem.

    `states` is the states list the facts go with (by default, the project's facts/states.tsv)."""
    try:
        data = yaml.load(text, Loader=_FactsLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(YAML)"
        raise FactsError(path, where, f"not valid YAML: {getattr(error, 'problem', error)}")
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        raise FactsError(path, _key_path(error.absolute_path), error.message)
    _check_cross_references(data, path)
    if states is None:
        states = load_states()
    _check_states(data, states, path)
    return Facts(data, states)


def _check_states(data: Dict[str, Any], states: States, path: Path | str) -> None:
    """The facts file's counts and per-country entries must agree with the states list."""
    settings = data["states_list"]
    for status, key in (("member", "members"), ("observer", "observers")):
        counted = len(states.with_status(status))
        if counted != settings[key]:
            raise FactsError(
                path, f"states_list.{key}", f"{settings[key]} here, but the states list has {counted} (status {status})"
            )
    for code, note in data["country_notes"].items():
        row = states.get(code)
        if row is None:
            raise FactsError(path, f"country_notes.{code}", f"'{code}' is not in the states list")
        if note["status"] != row.status:
            raise FactsError(path, f"country_notes.{code}.status", f"the states list says {row.status}")
    for code in data["country_names"]:
        if pycountry.countries.get(alpha_2=code) is None:
            raise FactsError(path, f"country_names.{code}", f"'{code}' is not an ISO 3166-1 country code")
    for code in data["country_sites"]:
        if states.get(code) is None:
            raise FactsError(path, f"country_sites.{code}", f"'{code}' is not in the states list")


def _check_cross_references(data: Dict[str, Any], path: Path | str) -> None:
    facts = data["facts"]
    for fact_id, fact in facts.items():
        for index, related in enumerate(fact["related"]):
            if related == fact_id:
                raise FactsError(path, f"facts.{fact_id}.related.{index}", "a fact cannot be related to itself")
    for key, required in REQUIRED_PLACEHOLDERS.items():
        for lang in LANGUAGES:
            template = data["messages"][key][lang]
            try:
                found = _placeholders(template)
            except ValueError as error:
                raise FactsError(path, f"messages.{key}.{lang}", f"bad placeholder: {error}")
            missing = required - found
            if missing:
                raise FactsError(
                    path, f"messages.{key}.{lang}", f"missing placeholder(s) {sorted(missing)}"
                )
    for key, message in data["messages"].items():
        if key in REQUIRED_PLACEHOLDERS:
            continue
        for lang in LANGUAGES:
            try:
                extra = _placeholders(message[lang])
            except ValueError as error:
                raise FactsError(path, f"messages.{key}.{lang}", f"bad placeholder: {error}")
            if extra:
                raise FactsError(
                    path, f"messages.{key}.{lang}", f"unexpected placeholder(s) {sorted(extra)}"
                )


def load_facts(
    path: Path | str = DEFAULT_FACTS_PATH, states_path: Path | str = DEFAULT_STATES_PATH
) -> Facts:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FactsError(path, "(file)", f"cannot read: {error}")
    return parse_facts(text, path, load_states(states_path))


def _file_signature(path: Path) -> Optional[Tuple[int, int]]:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


class FactStore:
    """Serves the current valid facts, reloading when the facts file or states list changes on disk."""

    def __init__(self, path: Path | str | None = None, states_path: Path | str | None = None) -> None:
        self.path = Path(path or os.environ.get("IOM_FACTS_FILE") or DEFAULT_FACTS_PATH)
        self.states_path = Path(states_path or os.environ.get("IOM_STATES_FILE") or DEFAULT_STATES_PATH)
        self._lock = threading.Lock()
        self._facts: Optional[Facts] = None
        self._signature: Optional[Tuple[Any, Any]] = None
        self.last_error: Optional[FactsError] = None

    def _disk_signature(self) -> Optional[Tuple[Any, Any]]:
        return (_file_signature(self.path), _file_signature(self.states_path))

    def current(self) -> Facts:
        """The facts to answer from. Raises FactsError only if no valid version was ever loaded."""
        signature = self._disk_signature()
        if self._facts is not None and signature == self._signature:
            return self._facts
        with self._lock:
            if self._facts is None or signature != self._signature:
                self._reload(signature)
        if self._facts is None:
            raise self.last_error or FactsError(self.path, "(file)", "not loaded")
        return self._facts

    def _reload(self, signature: Optional[Tuple[Any, Any]]) -> None:
        # Remember the signature even when the load fails, so a broken file is reported once
        # per edit rather than on every message.
        self._signature = signature
        try:
            facts = load_facts(self.path, self.states_path)
        except FactsError as error:
            self.last_error = error
            if self._facts is None:
                logger.error("Facts file invalid, nothing to serve: %s", error)
            else:
                logger.error("Facts file invalid, keeping the last good version: %s", error)
            return
        if self._facts is not None:
            logger.info("Facts reloaded: %s, %s", self.path, self.states_path)
        self._facts = facts
        self.last_error = None
