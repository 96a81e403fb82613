"""Choosing the reply language: clear messages switch it, ambiguous ones keep it."""

import pytest

from actions.language import detect_language, normalise_language


@pytest.mark.parametrize(
    "text, previous, expected",
    [
        ("Qui est la directrice générale de l'OIM ?", "en", "fr"),
        ("Who is the Director General of IOM?", "fr", "en"),
        ("et combien de pays ?", "en", "fr"),
        ("and the deputy?", "fr", "en"),
        ("depuis quand ?", "en", "fr"),
        ("since when?", "fr", "en"),
        ("bonjour", "en", "fr"),
        ("hello", "fr", "en"),
        ("merci", "en", "fr"),
        ("thanks", "fr", "en"),
        ("c koi l'oim", "en", "fr"),
        ("ou est le siege", "en", "fr"),
    ],
)
@pytest.mark.parametrize("light", [False, True], ids=["full", "light"])
def test_clear_messages_set_the_language(text, previous, expected, light):
    # light: the low-memory models the Rasa server uses for its own notices (channels/guard.py).
    assert detect_language(text, previous, light=light) == expected


@pytest.mark.parametrize("text", ["OIM", "IOM ?", "ok", "👍", "", "   ", "/ask_history", "12345", "Amy Pope"])
@pytest.mark.parametrize("previous", ["fr", "en"])
@pytest.mark.parametrize("light", [False, True], ids=["full", "light"])
def test_ambiguous_messages_keep_the_conversation_language(text, previous, light):
    assert detect_language(text, previous, light=light) == previous


def test_default_is_french():
    assert detect_language("OIM") == "fr"


@pytest.mark.parametrize("value, expected", [("fr-FR", "fr"), ("EN", "en"), ("en_GB", "en"), ("de", None), (None, None), (3, None)])
def test_channel_language_codes_are_normalised(value, expected):
    assert normalise_language(value) == expected
