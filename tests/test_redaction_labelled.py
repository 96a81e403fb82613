"""Redaction on the labelled messages of tests/privacy/ (issue 21), French, English and Spanish.

labelled_*.yml (what privacy/identity.py was written on) and holdout_*.yml (written after it and
kept apart): no labelled personal data is left in the redacted text, every placeholder stands
for labelled personal data of its kind, and every question without personal data comes out as
typed ("Who is Amy Pope?", "Is Chad a member?", "IOM in Rue de Lausanne?"). The figures:
`python -m bench.redaction_quality` (docs/privacy.md).
"""

from __future__ import annotations

import pytest

from bench.redaction_quality import KINDS, LANGUAGES, evaluate, load
from privacy.redact import redact


@pytest.mark.parametrize("part", ["labelled", "holdout"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_personal_data_goes_and_questions_stay(language, part):
    messages = load(language, part)
    if part == "labelled":
        with_data = [m for m in messages if m.get("personal")]
        assert len(messages) >= 100 and len(with_data) >= 40 and len(messages) - len(with_data) >= 40
    result = evaluate(messages, redact)
    assert result.leaked == 0, result.mistakes
    assert result.questions_kept == result.questions, result.mistakes
    for kind in KINDS:
        score = result.scores[kind]
        assert score.precision == 1.0 and score.recall == 1.0, (kind, result.mistakes)


@pytest.mark.parametrize("question", [
    "Who is Amy Pope?", "Qui est Amy Pope ?", "¿Quién es Amy Pope?",
    "IOM in Rue de Lausanne?", "L'OIM est-elle rue de Lausanne ?", "Is Chad a member?",
    "Le Tchad est-il membre ?", "Is Jordan a Member State?", "IOM was founded on 5 December 1951",
    "Was IOM born in 1951?", "¿La OIM nació en 1951?", "L'OIM est née en 1951 ?",
    "Is IOM at 17 route des Morillons in Geneva?", "Look at iom.int for the facts",
    "Comment s'appelle la directrice générale ?", "¿Cómo se llama la directora general?",
    "my name is not important", "I am French, can I apply?", "Soy colombiana",
    "je vis dans la rue depuis 3 mois", "what's the square root of 144",
])
def test_questions_about_people_places_and_dates_are_kept(question):
    assert redact(question) == question


@pytest.mark.parametrize("message, expected", [
    ("my name is Awa Diop", "my name is [name]"),
    ("je m'appelle Awa Diop et je cherche", "je m'appelle [name] et je cherche"),
    ("me llamo María García y perdí", "me llamo [name] y perdí"),
    ("I live at 221B Baker Street, London", "I live at [address], London"),
    ("J'habite au 12 rue de la République, 69002 Lyon", "J'habite au [address]"),
    ("Vivo en la Calle Mayor 15, Madrid", "Vivo en la [address], Madrid"),
    ("born on 12 March 1990", "born on [birthdate]"),
    ("je suis né le 12 mars 1990 à Dakar", "je suis né le [birthdate] à Dakar"),
    ("nací el 12 de marzo de 1990", "nací el [birthdate]"),
    ("grace at yahoo.com", "[email]"),
    ("0 6 1 2 3 4 5 6 7 8", "[phone]"),
    ("06,12,34,56,78", "[phone]"),
    ("06_12_34_56_78", "[phone]"),
    ("0 612 345 678", "[phone]"),
    ("fr76 3000 6000 0112 3456 7890 189", "[number]"),
])
def test_the_forms_of_issue_21(message, expected):
    assert redact(message) == expected
