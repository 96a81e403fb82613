"""The facts file: contract coverage, schema errors, reload and last-good behaviour."""

import json
import logging
import os
import re
import time
from pathlib import Path

import pytest
import yaml

from actions.facts import DEFAULT_FACTS_PATH, FactsError, FactStore, load_facts, parse_facts

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract.md"
ORIGINAL = DEFAULT_FACTS_PATH.read_text(encoding="utf-8")


def contract_fact_ids():
    """Fact ids from the shared contract's table (falls back to the schema's list in a clone
    without ../shared: the schema was written from the contract)."""
    if CONTRACT.exists():
        section = CONTRACT.read_text().split("## Fact ids", 1)[1].split("\n## ", 1)[0]
        return [i for i in re.findall(r"^\| ([a-z0-9_]+) \|", section, flags=re.M) if i != "id"]
    schema = json.loads((DEFAULT_FACTS_PATH.parent / "schema.json").read_text())
    return schema["$defs"]["fact_id"]["enum"]


def test_every_contract_fact_is_present_in_both_languages_with_source_and_date():
    facts = load_facts()
    ids = contract_fact_ids()
    # The contract's table is the list: no count written here, so a fact added to the contract
    # (personal_help) fails this test until the facts file and the schema have it too.
    assert "identity" in ids and len(ids) == len(set(ids))
    assert sorted(facts.fact_ids) == sorted(ids)
    schema = json.loads((DEFAULT_FACTS_PATH.parent / "schema.json").read_text(encoding="utf-8"))
    assert sorted(schema["$defs"]["fact_id"]["enum"]) == sorted(ids)
    for fact_id in ids:
        fact = facts.fact(fact_id)
        for part in ("title", "short", "long"):
            assert fact[part]["fr"].strip() and fact[part]["en"].strip(), (fact_id, part)
            assert fact[part]["fr"] != fact[part]["en"] or part == "title", (fact_id, part)
        assert fact["sources"] and all(s.startswith("https://") for s in fact["sources"])
        assert re.match(r"^\d{4}(-\d{2}){0,2}$", fact["as_of"])


def test_key_figures_match_the_fact_sheet():
    facts = load_facts()
    for lang in ("fr", "en"):
        identity = facts.text("identity", "short", lang)
        assert "175" in identity and "171" in identity and "1951" in identity
        assert "Amy E. Pope" in facts.text("director_general", "short", lang)
        assert "Ugochi Daniels" in facts.text("ddg_operations", "short", lang)
        assert "10.7" in facts.text("agenda_2030", "short", lang)
    # Holders only where sourced.
    assert facts.office_holder("chief_of_staff") is None
    assert facts.office_holder("director_general") == "Amy E. Pope"


def edited(**changes):
    data = yaml.safe_load(ORIGINAL)
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.mark.parametrize(
    "changes, key, problem",
    [
        ({"facts__history__short__en": None}, "facts.history.short", "'en' is a required property"),
        ({"facts__visas": None}, "facts", "'visas' is a required property"),
        ({"facts__identity__as_of": "last year"}, "facts.identity.as_of", "does not match"),
        ({"facts__identity__sources": ["www.iom.int"]}, "facts.identity.sources.0", "does not match"),
        ({"facts__identity__related": ["history", "no_such_fact"]}, "facts.identity.related.1", "is not one of"),
        ({"facts__identity__related": ["identity", "history"]}, "facts.identity.related.0", "related to itself"),
        ({"messages__source__fr": "Source : {sources}"}, "messages.source.fr", "missing placeholder"),
        ({"member_countries__france": {}}, "member_countries", "does not match"),
    ],
)
def test_schema_errors_name_the_file_the_key_and_the_problem(changes, key, problem):
    with pytest.raises(FactsError) as caught:
        parse_facts(edited(**changes), "facts/facts.yml")
    message = str(caught.value)
    assert message.startswith("facts/facts.yml: "), message
    assert caught.value.key == key, message
    assert problem in caught.value.problem, message


def test_broken_yaml_reports_the_line():
    with pytest.raises(FactsError) as caught:
        parse_facts("facts: [unclosed\n", "x.yml")
    assert "line" in caught.value.key and "YAML" in caught.value.problem


def test_store_reloads_a_valid_edit_and_keeps_the_last_good_version(tmp_path, caplog):
    path = tmp_path / "facts.yml"
    path.write_text(ORIGINAL, encoding="utf-8")
    store = FactStore(path)
    assert "175" in store.current().text("member_states", "short", "en")

    def write(text):
        path.write_text(text, encoding="utf-8")
        # Make the change visible even on file systems with coarse timestamps.
        stamp = time.time() + 5
        os.utime(path, (stamp, stamp))

    write(ORIGINAL.replace("IOM has 175 Member States", "IOM has 176 Member States"))
    assert "176" in store.current().text("member_states", "short", "en")

    with caplog.at_level(logging.ERROR):
        write(ORIGINAL.replace("    as_of: \"2025\"\n", "    as_of: soon\n", 1))
        facts = store.current()
    assert facts.text("member_states", "short", "en").startswith("IOM has 176")
    assert store.last_error is not None and "as_of" in store.last_error.key
    assert any("keeping the last good version" in r.message and "as_of" in r.message for r in caplog.records)

    write(ORIGINAL)
    assert store.current().text("member_states", "short", "en").startswith("IOM has 175")
    assert store.last_error is None


def test_store_without_any_valid_version_raises(tmp_path):
    path = tmp_path / "facts.yml"
    path.write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(FactsError):
        FactStore(path).current()
