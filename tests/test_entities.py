"""Migration terms and a person's situation: every form of the `term` and `situation` tables is
found whole and maps to its value, as the trained pipeline finds them (Rasa's own patterns for
RegexEntityExtractor, case-insensitive, word boundaries; EntitySynonymMapper's synonyms), and the
actions read the right value from a sentence (actions.understanding.terms / situation)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rasa.nlu.utils.pattern_utils import extract_patterns
from rasa.shared.nlu.training_data.loading import load_data

from actions.understanding import situation, terms
from tests import facts_file

NLU = Path(__file__).resolve().parents[1] / "data" / "nlu"
SITUATIONS = ("lost_papers", "stranded", "work_abroad", "discrimination")


@pytest.fixture(scope="module")
def training_data():
    return load_data(str(NLU))


def entities(training_data, name, text):
    found = []
    for pattern in extract_patterns(training_data, use_regexes=False, use_word_boundaries=True):
        if pattern["name"] != name:
            continue
        for match in re.finditer(pattern["pattern"], text, flags=re.IGNORECASE):
            value = training_data.entity_synonyms.get(match.group().lower(), match.group())
            found.append({"entity": name, "value": value, "start": match.start(), "end": match.end()})
    return found


def table(training_data, name):
    return [element for t in training_data.lookup_tables if t["name"] == name for element in t["elements"]]


def test_rasa_keeps_both_tables_for_the_extractor(training_data):
    # RegexEntityExtractor only uses tables of entities annotated in the training data.
    assert {"term", "situation"} <= set(training_data.entities)
    names = {p["name"] for p in extract_patterns(training_data, use_regexes=False, use_only_entities=True)}
    assert {"term", "situation"} <= names


@pytest.mark.parametrize("name", ["term", "situation"])
def test_every_form_is_found_whole_and_named_by_its_synonym(training_data, name):
    values = set(facts_file.data()["facts"]["key_terms"]["terms"]) if name == "term" else set(SITUATIONS)
    forms = table(training_data, name)
    assert len(forms) > 100
    wrong = []
    for form in forms:
        value = training_data.entity_synonyms.get(form.lower())
        found = entities(training_data, name, f"well, {form} ?")
        if value not in values or [e["value"] for e in found] != [value]:
            wrong.append((form, value, found))
    assert not wrong, wrong


@pytest.mark.parametrize(
    "text, expected",
    [
        ("what's the difference between an asylum seeker and a refugee?", ["asylum_seeker", "refugee"]),
        ("que veut dire apatride", ["stateless_person"]),
        ("trafic illicite de migrants ou traite des personnes ?", ["migrant_smuggling", "trafficking_in_persons"]),
        ("¿qué son las remesas?", ["remittances"]),
        ("what is an IDP", ["internally_displaced_person"]),
        ("¿un desplazado interno es un refugiado?", ["internally_displaced_person", "refugee"]),
        ("what does AVRR stand for", ["assisted_voluntary_return"]),
    ],
)
def test_terms_named_in_a_sentence(training_data, text, expected):
    assert terms(entities(training_data, "term", text)) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I lost my passport in Libya", "lost_papers"),
        ("perdí mi pasaporte en México", "lost_papers"),
        ("on m'a volé mes papiers à la gare", "lost_papers"),
        ("I'm stranded in Niger with no money", "stranded"),
        ("estoy varado sin plata", "stranded"),
        ("je suis bloquée à la frontière", "stranded"),
        ("an agent wants a fee for a job abroad, is it real?", "work_abroad"),
        ("un recruteur me demande de l'argent", "work_abroad"),
        ("quiero trabajar en Canadá", "work_abroad"),
        ("people insult me every day because I am a foreigner", "discrimination"),
        ("on m'insulte parce que je suis étranger", "discrimination"),
        ("me discriminan por ser migrante", "discrimination"),
        ("what does IOM do?", None),
    ],
)
def test_the_situation_named_in_a_sentence(training_data, text, expected):
    assert situation(entities(training_data, "situation", text)) == expected
