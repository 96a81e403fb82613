"""The facts file: contract coverage, schema errors, reload and last-good behaviour."""

import json
import logging
import os
import re
import time
from pathlib import Path

import pytest
import yaml

from actions.facts import (
    DEFAULT_FACTS_PATH,
    DEFAULT_STATES_PATH,
    LANGUAGES,
    FactsError,
    FactStore,
    load_facts,
    load_states,
    parse_facts,
    parse_states,
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
    schema = json.loads((DEFAULT_FACTS_PATH.parent / "schema.json").read_text())
    return schema["$defs"]["fact_id"]["enum"]


def test_every_contract_fact_is_present_in_the_three_languages_with_source_and_date():
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


def test_each_language_cites_the_page_in_its_own_language_where_one_is_known():
    facts = load_facts()
    # IOM's "who we are" page exists in French and Spanish; English answers cite English pages
    # carrying the same text (no English "who we are" address is in the sources).
    assert facts.sources("identity", "fr")[0] == "https://www.iom.int/fr/qui-sommes-nous"
    assert facts.sources("identity", "es")[0] == "https://www.iom.int/es/quienes-somos"
    assert facts.sources("identity", "en")[0] == "https://www.iom.int/iom-organizational-structure"
    assert facts.sources("xenophobia", "en") == ["https://www.iom.int/xenophobia"]
    assert facts.sources("presence", "en")[0] == "https://www.iom.int/country-offices"
    # No page in another language known: every language cites the same source.
    assert facts.sources("director_general", "es") == facts.fact("director_general")["sources"]
    # A French-only IOM page is cited in French, never in English.
    assert facts.sources("languages", "fr") == ["https://www.iom.int/fr/diversite-et-inclusion"]
    assert "https://www.iom.int/fr/diversite-et-inclusion" not in facts.sources("languages", "en")
    # Every fact citing the French "who we are" page in French cites the Spanish one in Spanish.
    for fact_id in facts.fact_ids:
        if "https://www.iom.int/fr/qui-sommes-nous" in facts.sources(fact_id, "fr"):
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
        ({"country_notes__france": {}}, "country_notes", "does not match"),
        ({"states_list__members": 176}, "states_list.members", "the states list has 175"),
        ({"country_sites__LB": "https://lebanon.iom.int"}, "country_sites.LB", "not in the states list"),
        ({"country_sites__AT": "https://www.example.org"}, "country_sites.AT", "does not match"),
        ({"country_notes__RU__status": "observer"}, "country_notes.RU.status", "the states list says member"),
        ({"messages__state_member__es": None}, "messages.state_member", "'es' is a required property"),
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


# --- The states list (facts/states.tsv) -------------------------------------------------------

# ../shared beside the project (CI's clone), or beside the folder of work trees (a developer's).
SHARED_STATES = next(
    (p / "shared" / "data" / "iom_states.tsv" for p in Path(__file__).resolve().parents[2:4]
     if (p / "shared" / "data" / "iom_states.tsv").exists()),
    Path("/nonexistent"),
)
STATES_TEXT = DEFAULT_STATES_PATH.read_text(encoding="utf-8")


def test_all_183_states_load_and_validate():
    states = load_states()
    assert len(states.rows) == 183
    assert len(states.members) == 175 and len(states.observers) == 8
    assert {row.code for row in states.observers} == {"BH", "BT", "ID", "MY", "QA", "SM", "SA", "KW"}
    for row in states.rows.values():
        assert row.source_url.startswith(("https://", "http://")), row
        assert row.as_of is None or re.fullmatch(r"\d{4}(-\d{2}){0,2}", row.as_of), row
    assert states.get("SN").evidence == "encyclopedia" and states.get("KW").since == 2017
    assert states.get("FR").as_of is None  # empty cells are None, never ""
    facts = load_facts()
    assert facts.state("JP").since == 1993 and facts.state("LB") is None


def test_the_states_file_holds_the_shared_list_row_for_row():
    """facts/states.tsv is the shared list plus a comment header: no row lost or changed."""
    if not SHARED_STATES.exists():
        pytest.skip("no ../shared folder beside the project (clone without the shared data)")
    ours = [line for line in STATES_TEXT.splitlines() if line and not line.startswith("#")]
    assert ours == SHARED_STATES.read_text(encoding="utf-8").splitlines()


def _with_row(line_number: int, **cells) -> str:
    lines = STATES_TEXT.splitlines()
    data_lines = [i for i, line in enumerate(lines) if line and not line.startswith("#")]
    index = data_lines[line_number]
    columns = ("iso2", "name_en", "status", "since", "source_url", "as_of", "evidence")
    row = dict(zip(columns, lines[index].split("\t")))
    row.update(cells)
    lines[index] = "\t".join(row[c] for c in columns)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text, key, problem",
    [
        (lambda: _with_row(1, status="associate"), "line 11 (AF).status", "is not one of"),
        (lambda: _with_row(1, iso2="XX"), "line 11 (XX).iso2", "not an ISO 3166-1 country code"),
        (lambda: _with_row(1, iso2="EU"), "line 11 (EU).iso2", "not an ISO 3166-1 country code"),
        (lambda: _with_row(2, iso2="AF"), "line 12 (AF).iso2", "listed twice"),
        (lambda: _with_row(1, since="85"), "line 11 (AF).since", "does not match"),
        (lambda: _with_row(1, since="2030"), "line 11 (AF).since", "later than the source's date"),
        (lambda: _with_row(1, as_of="August 2024"), "line 11 (AF).as_of", "does not match"),
        (lambda: _with_row(1, source_url="iom.int/x"), "line 11 (AF).source_url", "does not match"),
        (lambda: _with_row(1, evidence="blog"), "line 11 (AF).evidence", "is not one of"),
        (lambda: STATES_TEXT.replace("AL\tAlbania\tmember\t", "AL\tAlbania\t", 1), "line 12", "6 tab-separated columns"),
        (lambda: STATES_TEXT.replace("iso2\tname_en", "code\tname_en", 1), "line 10", "the header must be"),
    ],
)
def test_states_errors_name_the_file_the_line_and_the_problem(text, key, problem):
    with pytest.raises(FactsError) as caught:
        parse_states(text(), "facts/states.tsv")
    assert str(caught.value).startswith("facts/states.tsv: ")
    assert caught.value.key == key, str(caught.value)
    assert problem in caught.value.problem, str(caught.value)


def test_a_missing_state_row_is_caught_by_the_counts_of_the_facts_file():
    fewer = parse_states(STATES_TEXT.replace(_line_of("SN"), ""), "facts/states.tsv")
    with pytest.raises(FactsError) as caught:
        parse_facts(ORIGINAL, "facts/facts.yml", fewer)
    assert caught.value.key == "states_list.members" and "174" in caught.value.problem


def _line_of(code: str) -> str:
    return next(line + "\n" for line in STATES_TEXT.splitlines() if line.startswith(code + "\t"))


def test_store_reloads_an_edited_states_list_and_keeps_the_last_good_one(tmp_path, caplog):
    facts_path, states_path = tmp_path / "facts.yml", tmp_path / "states.tsv"
    facts_path.write_text(ORIGINAL, encoding="utf-8")
    states_path.write_text(STATES_TEXT, encoding="utf-8")
    store = FactStore(facts_path, states_path)
    assert store.current().state("SN").as_of == "2023"

    def write(text, bump):
        states_path.write_text(text, encoding="utf-8")
        stamp = time.time() + bump
        os.utime(states_path, (stamp, stamp))

    senegal = _line_of("SN")
    write(STATES_TEXT.replace(senegal, senegal.replace("\t2023\t", "\t2025-01\t")), 5)
    assert store.current().state("SN").as_of == "2025-01"

    with caplog.at_level(logging.ERROR):
        write(STATES_TEXT.replace(senegal, senegal.replace("member", "membre")), 10)
        assert store.current().state("SN").as_of == "2025-01"  # the last good version
    assert store.last_error is not None and store.last_error.key.endswith("(SN).status")
    assert any("states.tsv" in r.message and "(SN).status" in r.message for r in caplog.records)

    write(STATES_TEXT, 15)
    assert store.current().state("SN").as_of == "2023" and store.last_error is None


def test_country_sites_are_shown_by_a_source():
    """Each IOM country site is the host of that state's source in the list, or one the fact sheet
    names (argentina, france, italy.iom.int)."""
    facts = load_facts()
    named_by_the_fact_sheet = {"AR", "FR", "IT"}
    for code, site in facts.data["country_sites"].items():
        host = site.split("//", 1)[1].rstrip("/")
        assert code in named_by_the_fact_sheet or host in facts.state(code).source_url, (code, site)
