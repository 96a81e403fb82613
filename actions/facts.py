"""Loads, validates and serves the facts file (facts/facts.yml).

The facts file is the single source of every answer. It is checked against facts/schema.json and
a few cross-references the schema cannot express. `FactStore.current()` re-reads the file when it
changes on disk, so a content editor's fix is live on the next message, and keeps serving the last
good version (logging why) when an edit is invalid.
"""

from __future__ import annotations

import json
import logging
import os
import string
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import jsonschema
import yaml

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FACTS_PATH = PROJECT_ROOT / "facts" / "facts.yml"
SCHEMA_PATH = PROJECT_ROOT / "facts" / "schema.json"
LANGUAGES = ("fr", "en", "es")

# Placeholders each message must keep, so an edit cannot silently drop the filled-in part.
REQUIRED_PLACEHOLDERS = {
    "no_more": {"url"},
    "no_since": {"url"},
    "source": {"sources", "as_of"},
    "country_member": {"country", "note"},
    "country_unconfirmed": {"country"},
    "too_long": {"limit"},
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
class Facts:
    """One validated version of the facts file, with the look-ups the actions need."""

    data: Dict[str, Any]

    @property
    def fact_ids(self) -> List[str]:
        return list(self.data["facts"])

    @property
    def official_site(self) -> str:
        return self.data["official_site"]

    def fact(self, fact_id: str) -> Dict[str, Any]:
        return self.data["facts"][fact_id]

    def has_fact(self, fact_id: Optional[str]) -> bool:
        return bool(fact_id) and fact_id in self.data["facts"]

    def text(self, fact_id: str, part: str, lang: str) -> Optional[str]:
        """`part` is short, long, since or title; None when the fact has no such part."""
        value = self.fact(fact_id).get(part)
        return value[lang] if value else None

    def message(self, key: str, lang: str, **values: Any) -> str:
        return self.data["messages"][key][lang].format(**values)

    def member_country(self, code: str) -> Optional[Dict[str, Any]]:
        return self.data["member_countries"].get(code)

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


def parse_facts(text: str, path: Path | str = DEFAULT_FACTS_PATH) -> Facts:
    """Parse and validate facts YAML; raises FactsError naming the key and the problem."""
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
    return Facts(data)


def _check_cross_references(data: Dict[str, Any], path: Path | str) -> None:
    facts = data["facts"]
    for fact_id, fact in facts.items():
        for index, related in enumerate(fact["related"]):
            if related == fact_id:
                raise FactsError(path, f"facts.{fact_id}.related.{index}", "a fact cannot be related to itself")
    for key, required in REQUIRED_PLACEHOLDERS.items():
        for lang in LANGUAGES:
            template = data["messages"][key].get(lang)
            if template is None:
                continue
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
            if lang not in message:
                continue
            try:
                extra = _placeholders(message[lang])
            except ValueError as error:
                raise FactsError(path, f"messages.{key}.{lang}", f"bad placeholder: {error}")
            if extra:
                raise FactsError(
                    path, f"messages.{key}.{lang}", f"unexpected placeholder(s) {sorted(extra)}"
                )


def load_facts(path: Path | str = DEFAULT_FACTS_PATH) -> Facts:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FactsError(path, "(file)", f"cannot read: {error}")
    return parse_facts(text, path)


class FactStore:
    """Serves the current valid facts, reloading when the file changes on disk."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path or os.environ.get("IOM_FACTS_FILE") or DEFAULT_FACTS_PATH)
        self._lock = threading.Lock()
        self._facts: Optional[Facts] = None
        self._signature: Optional[Tuple[int, int]] = None
        self.last_error: Optional[FactsError] = None

    def _disk_signature(self) -> Optional[Tuple[int, int]]:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

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

    def _reload(self, signature: Optional[Tuple[int, int]]) -> None:
        # Remember the signature even when the load fails, so a broken file is reported once
        # per edit rather than on every message.
        self._signature = signature
        try:
            facts = load_facts(self.path)
        except FactsError as error:
            self.last_error = error
            if self._facts is None:
                logger.error("Facts file invalid, nothing to serve: %s", error)
            else:
                logger.error("Facts file invalid, keeping the last good version: %s", error)
            return
        if self._facts is not None:
            logger.info("Facts file reloaded: %s", self.path)
        self._facts = facts
        self.last_error = None
