"""Test sentences are never training sentences (the hold-out figure stays honest).

A hold-out sentence that equals a training example once case, accents, punctuation, spaces and
entity markup are folded away (tests/tools/evaluate_holdout.py `fold`), or that has the same words in
another order, measures memory, not understanding. Checked for every hold-out file of every language (`tests/nlu_holdout/*.yml`,
`es.yml`, `fr.countries.yml`... included) against every file under data/, and likewise for the
public-phrasing set (`tests/nlu_public/`), the short messages (`tests/short_messages/`), the test
stories and the tempting messages.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from tests.tools.evaluate_holdout import (
    copy_keys,
    fold,
    holdout_files,
    holdout_overlaps,
    load_examples,
    overlaps,
    training_sentences,
)
from tests.servers import ROOT

TESTS = ROOT / "tests"
# The public's phrasing (issue 20): a hold-out of its own, reported apart by `make test-nlu`.
PUBLIC = TESTS / "nlu_public"
SHORT_MESSAGES = TESTS / "short_messages"


def _listing(found) -> str:
    return "\n".join(
        f"{os.path.relpath(path, ROOT)}: {text!r} equals {train_text!r} "
        f"({os.path.relpath(train_path, ROOT)})"
        for text, path, train_text, train_path in found
    )


def test_fold_ignores_case_accents_punctuation_spaces_and_entity_markup():
    assert fold("Qui dirige l'OIM ?") == fold("qui dirige l OIM") == fold("QUI DIRIGE LOIM")
    assert fold("Où est le siège ?") == fold("ou est le siege")
    assert fold("who is the [DDG for operations](office)?") == fold("Who is the DDG for operations")
    assert fold('[Japon]{"entity": "country"} ?') == fold("japon")
    assert fold("et le Mali ?") != fold("et le Mali aussi ?")
    assert copy_keys("migrants and covid")[1] == copy_keys("Covid and migrants!")[1]
    assert copy_keys("l'OIM a été fondée quand ?")[1] == copy_keys("quand l'OIM a été fondée")[1]


def test_no_holdout_sentence_is_a_training_sentence():
    files = holdout_files()
    assert {"fr", "en"} <= set(files)
    found = holdout_overlaps()
    assert not found, f"{len(found)} hold-out sentence(s) copied from data/:\n{_listing(found)}"


def test_the_overlap_check_sees_every_language_and_every_kind_of_training_file(tmp_path):
    """A later language or hold-out part, and a copy of a lookup entry, a story turn or an
    annotated example, are all caught."""
    data = tmp_path / "data"
    (data / "nlu" / "es").mkdir(parents=True)
    (data / "stories").mkdir()
    (data / "nlu" / "es" / "about.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_office\n  examples: |\n'
        "    - ¿quién es la [directora general](office)?\n"
    )
    (data / "nlu" / "lookups.yml").write_text(
        'version: "3.1"\nnlu:\n- lookup: office\n  examples: |\n    - chef de cabinet\n'
    )
    (data / "stories" / "s.yml").write_text(
        'version: "3.1"\nstories:\n- story: s\n  steps:\n  - user: hola, buenos días\n    intent: greet\n'
    )
    holdout = tmp_path / "holdout"
    holdout.mkdir()
    (holdout / "es.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_office\n  examples: |\n'
        "    - Quien es la directora general\n    - ¿y la subdirectora?\n    - hola buenos días, ¿quién es la directora?\n"
    )
    (holdout / "fr.offices.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_office\n  examples: |\n    - Chef de cabinet ?\n'
        "- intent: greet\n  examples: |\n    - Hola buenos dias\n    - buenos días, hola\n"
    )
    found = holdout_overlaps(holdout, data)
    assert sorted(text for text, *_ in found) == [
        "Chef de cabinet ?", "Hola buenos dias", "Quien es la directora general", "buenos días, hola"
    ]


def test_test_stories_and_tempting_messages_are_not_training_sentences():
    training = training_sentences()
    sentences = [
        (step["user"], stories)
        for stories in sorted((TESTS / "stories").glob("*.yml"))
        for story in yaml.safe_load(stories.read_text(encoding="utf-8"))["stories"]
        for step in story["steps"]
        if "user" in step and not step["user"].startswith("/")
    ]
    for path in sorted((TESTS / "tempting").glob("*.yml")):
        sentences += [(entry["text"], path) for entry in yaml.safe_load(path.read_text(encoding="utf-8"))]
    found = overlaps(sentences, training)
    assert not found, f"{len(found)} test sentence(s) copied from data/:\n{_listing(found)}"


def test_public_phrasing_and_short_messages_are_not_training_sentences():
    files = holdout_files(PUBLIC)
    assert {"fr", "en", "es"} <= set(files)
    found = holdout_overlaps(PUBLIC)
    sentences = [
        (entry["text"], path)
        for path in sorted(SHORT_MESSAGES.glob("*.yml"))
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]
    assert len(sentences) >= 3 * 40
    found += overlaps(sentences, training_sentences())
    assert not found, f"{len(found)} test sentence(s) copied from data/:\n{_listing(found)}"


def test_holdout_covers_every_intent_with_enough_sentences_per_language():
    """The old hold-out keeps its size; with the public-phrasing set (issue 20's new intents are
    only there) every intent of the domain is tested in each language."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = set(domain["intents"])
    for lang in ("fr", "en"):
        examples = [example for path in holdout_files()[lang] for example in load_examples(Path(path))]
        public = [example for path in holdout_files(PUBLIC)[lang] for example in load_examples(Path(path))]
        assert len(examples) >= 300 and len(public) >= 100, lang
        tested = {intent for _, intent in examples + public}
        assert tested == intents, (lang, intents - tested)
        for sentences in (examples, public):
            keys = [key for text, _ in sentences for key in copy_keys(text)]
            assert len(keys) == len(set(keys)), f"{lang}: a hold-out sentence is repeated"
