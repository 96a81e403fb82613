"""The facts file: contract coverage, schema errors, reload and last-good behaviour."""

import logging
import os
import re
import time
from pathlib import Path

import pytest
import yaml

from actions.facts import (
    DEFAULT_FACTS_PATH,
    LANGUAGES,
    FactsError,
    FactStore,
    load_facts,
    parse_facts,
)
from actions.language import detect_language

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract.md"
ORIGINAL = DEFAULT_FACTS_PATH.read_text(encoding="utf-8")


def contract_fact_ids():
    """Fact ids from the shared contract's table (falls back to the schema's list in a clone
    without ../shared: the schema was written from the contract)."""
    if CONTRACT.exists():
        section = CONTRACT.read_text().split("## Fact ids", 1)[1].split("\n## ", 1)[0]
        return [i for i in re.findall(r"^\| ([a-z0-9_]+) \|", section, flags=re.M) if i != "id"]
    import json

    schema = json.loads((DEFAULT_FACTS_PATH.parent / "schema.json").read_text())
    return schema["$defs"]["fact_id"]["enum"]


def test_every_contract_fact_is_present_in_the_three_languages_with_source_and_date():
    facts = load_facts()
    ids = contract_fact_ids()
    assert len(ids) >= 26
    assert sorted(facts.fact_ids) == sorted(ids)
    for fact_id in ids:
        fact = facts.fact(fact_id)
        for part in ("title", "short", "long", "since"):
            if part not in fact and part == "since":
                continue
            texts = [fact[part][lang] for lang in LANGUAGES]
            assert all(t.strip() for t in texts), (fact_id, part)
            assert len(set(texts)) == 3 or part == "title", (fact_id, part)
        for lang in LANGUAGES:
            sources = facts.sources(fact_id, lang)
            assert sources and all(s.startswith("https://") for s in sources), (fact_id, lang)
        assert re.match(r"^\d{4}(-\d{2}){0,2}$", fact["as_of"])


def test_every_message_and_office_is_in_the_three_languages():
    facts = load_facts()
    for key, texts in facts.data["messages"].items():
        assert sorted(texts) == sorted(LANGUAGES), key
    for office in facts.data["leadership_offices"]:
        for lang in LANGUAGES:
            assert facts.text(office["fact"], "title", lang).strip()


def test_each_text_is_detected_as_its_own_language():
    """A Spanish text that reads as French (or a copy left untranslated) would be caught here; the
    light detector is the one WhatsApp uses on replies."""
    facts = load_facts()
    for fact_id in facts.fact_ids:
        for part in ("short", "long", "since"):
            for lang in LANGUAGES:
                text = facts.text(fact_id, part, lang)
                # The address is French in every language ("17 route des Morillons, Le Grand-...").
                if text and (fact_id, part) != ("headquarters", "long"):
                    assert detect_language(text, light=True) == lang, (fact_id, part, lang, text)
    for key, texts in facts.data["messages"].items():
        for lang in LANGUAGES:
            if len(texts[lang].split()) >= 4:
                assert detect_language(texts[lang]) == lang, (key, lang)


def test_spanish_answers_cite_the_spanish_page_where_there_is_one():
    facts = load_facts()
    assert facts.sources("identity", "es") == ["https://www.iom.int/es/quienes-somos"]
    assert facts.sources("identity", "fr") == ["https://www.iom.int/fr/qui-sommes-nous"]
    assert facts.sources("identity", "en") == facts.fact("identity")["sources"]
    # No Spanish page known: every language cites the same source.
    assert facts.sources("director_general", "es") == facts.fact("director_general")["sources"]
    # Every fact citing the French "who we are" page cites the Spanish one in Spanish. (Two
    # French pages have no Spanish address in our sources: languages, trafficking.)
    for fact_id in facts.fact_ids:
        if "https://www.iom.int/fr/qui-sommes-nous" in facts.fact(fact_id)["sources"]:
            assert "https://www.iom.int/es/quienes-somos" in facts.sources(fact_id, "es"), fact_id


def test_key_figures_match_the_fact_sheet():
    facts = load_facts()
    for lang in LANGUAGES:
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
        ({"facts__history__short__es": None}, "facts.history.short", "'es' is a required property"),
        ({"facts__identity__title__es": None}, "facts.identity.title", "'es' is a required property"),
        ({"messages__greet__es": None}, "messages.greet", "'es' is a required property"),
        ({"messages__source__es": "Fuente: {sources}"}, "messages.source.es", "missing placeholder"),
        ({"facts__identity__sources_by_language": {"es": []}}, "facts.identity.sources_by_language.es", "is too short"),
        ({"facts__identity__sources_by_language": {"de": ["https://www.iom.int/de"]}}, "facts.identity.sources_by_language", "Additional properties"),
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
