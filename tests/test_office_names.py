"""Office names: every name of every office table is found whole and maps to its own office.

Runs the training data's office tables the way the trained pipeline does (Rasa's own patterns
for RegexEntityExtractor, case-insensitive; EntitySynonymMapper's synonyms), then the actions'
choice among overlapping matches (actions.understanding.office_fact). It fails if a table puts a
shorter name before a longer one that starts with it, or if a name has no synonym.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rasa.nlu.utils.pattern_utils import extract_patterns
from rasa.shared.nlu.training_data.loading import load_data

from actions.understanding import ANY_DEPUTY, OFFICE_FACTS, office_fact

NLU = Path(__file__).resolve().parents[1] / "data" / "nlu"


@pytest.fixture(scope="module")
def training_data():
    return load_data(str(NLU))


def office_entities(training_data, text):
    entities = []
    for pattern in extract_patterns(training_data, use_regexes=False):
        if pattern["name"] != "office":
            continue
        for match in re.finditer(pattern["pattern"], text, flags=re.IGNORECASE):
            value = training_data.entity_synonyms.get(match.group().lower(), match.group())
            entities.append(
                {"entity": "office", "value": value, "start": match.start(), "end": match.end()}
            )
    return entities


def office_names(training_data):
    for table in training_data.lookup_tables:
        if table["name"] == "office":
            yield from table["elements"]


def test_every_office_name_is_found_whole_and_named_by_its_synonym(training_data):
    names = list(office_names(training_data))
    assert len(names) > 300
    wrong = []
    for name in names:
        value = training_data.entity_synonyms.get(name.lower())
        if value not in (*OFFICE_FACTS, ANY_DEPUTY):
            wrong.append((name, "no synonym"))
            continue
        found = office_fact(office_entities(training_data, f"quien es el {name} ?"))
        if found != value:
            wrong.append((name, value, found))
    assert not wrong, wrong


@pytest.mark.parametrize(
    "text, office",
    [
        ("quien es el director general adjunto de gestion y reforma", "ddg_management_reform"),
        ("y la directora general adjunta de operaciones?", "ddg_operations"),
        ("quien es el director general adjunto?", ANY_DEPUTY),
        ("¿y el adjunto?", ANY_DEPUTY),
        ("quien es la directora general de la OIM", "director_general"),
        ("¿quién es el jefe de gabinete?", "chief_of_staff"),
        ("que hace la oficina de alianzas, promoción y comunicación", "office_partnerships"),
        ("la oficina de estrategia y desempeño institucional", "office_strategy"),
        ("who is the director general", "director_general"),
        ("qui est le directeur général adjoint chargé des opérations ?", "ddg_operations"),
    ],
)
def test_office_named_in_a_sentence(training_data, text, office):
    assert office_fact(office_entities(training_data, text)) == office
