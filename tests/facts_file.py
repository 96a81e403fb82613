"""Expected answers for the tests, read from facts/facts.yml and facts/states.tsv directly (YAML and
tab-separated text), never through actions/facts.py: a test then compares what the assistant said
with what the file says, not with what the code under test makes of the file.

Only facts/facts.yml and facts/states.tsv as committed; a test that serves an edited copy
(IOM_FACTS_FILE, IOM_STATES_FILE) writes its own expectations.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

FACTS_FILE = Path(__file__).resolve().parents[1] / "facts" / "facts.yml"
STATES_FILE = FACTS_FILE.with_name("states.tsv")


@lru_cache(maxsize=1)
def data() -> Dict[str, Any]:
    return yaml.safe_load(FACTS_FILE.read_text(encoding="utf-8"))


def message(key: str, lang: str, **values: Any) -> str:
    """`messages.<key>.<lang>`, its {placeholders} filled with `values`."""
    return data()["messages"][key][lang].format(**values)


def text(fact_id: str, part: str, lang: str) -> Optional[str]:
    """`facts.<fact_id>.<part>.<lang>` (part: title, short, long, since); None if the fact has none."""
    value = data()["facts"][fact_id].get(part)
    return value[lang] if value else None


def fact_ids() -> List[str]:
    return list(data()["facts"])


def situation(situation_id: str) -> Dict[str, Any]:
    """`situations.<situation_id>`: a person's own situation (text, sources, related...)."""
    return data()["situations"][situation_id]


def term(term_id: str) -> Dict[str, Any]:
    """One migration term of the key_terms fact: `facts.key_terms.terms.<term_id>`."""
    return data()["facts"]["key_terms"]["terms"][term_id]


def sources(entry: Dict[str, Any], lang: str) -> List[str]:
    """The sources an answer from `entry` (a fact, a situation, a term) cites in `lang`: its own
    list in `sources_by_language` where it has one, else `sources` (docs/editing-facts.md, "Rules
    for every text")."""
    return (entry.get("sources_by_language") or {}).get(lang) or entry["sources"]


@lru_cache(maxsize=1)
def states() -> Dict[str, Dict[str, str]]:
    """The rows of facts/states.tsv by ISO code, each a dict of its columns ('' where empty)."""
    lines = [line for line in STATES_FILE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    rows = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    return {row["iso2"]: {key: (value or "").strip() for key, value in row.items()} for row in rows}
