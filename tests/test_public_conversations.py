"""What the public asks (issue 20), over HTTP with the real Rasa server and action server: a
person's own situation in French, English and Spanish (kind first, then where to turn, with the
office of a country named), opinions, and the language of replies to short messages
(tests/short_messages, the development set of issue 20). Where to turn is written here or read
from the facts file, never computed by the code under test."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import yaml

from tests import facts_file
from tests.servers import ROOT, Stack, texts

pytestmark = pytest.mark.integration
COUNTRY_OFFICES = "https://www.iom.int/country-offices"
SHORT_MESSAGES = Path(__file__).parent / "short_messages"
# A first message that sets a conversation's language (the short messages' `conversation`).
OPENINGS = {"fr": "Bonjour, je voudrais une information", "en": "Hello, I have a question",
            "es": "Hola, tengo una pregunta"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # The REST channel as `make run` serves it: every message through channels/guard.py.
    running = Stack(tmp_path_factory.mktemp("public"), credentials="channels.rest.GuardedRestInput:\n").start()
    running.say("warm-up", "Hello")  # the first message loads the language detector
    yield running
    running.stop()


def new_sender() -> str:
    return f"public-{uuid.uuid4().hex[:12]}"


# (language, message, situation, topic, where to turn, country code, the country's office page)
SITUATIONS = [
    ("en", "I lost my passport in Libya, what can I do?", "lost_papers", "personal_help",
     "embassy or consulate", "LY", COUNTRY_OFFICES),
    ("fr", "j'ai perdu mon passeport au Mexique, que faire ?", "lost_papers", "personal_help",
     "ambassade ou au consulat", "MX", "https://mexico.iom.int"),
    ("es", "perdí mi pasaporte en México", "lost_papers", "personal_help",
     "embajada o al consulado", "MX", "https://mexico.iom.int"),
    ("en", "I'm stuck in Niger and I have no money left", "stranded", "personal_help",
     "assisted voluntary return", "NE", COUNTRY_OFFICES),
    ("fr", "je suis bloquée en Tunisie et je n'ai plus un sou", "stranded", "personal_help",
     "aide au retour volontaire", "TN", COUNTRY_OFFICES),
    ("es", "estoy varado en Guatemala sin dinero", "stranded", "personal_help",
     "retorno voluntario asistido", "GT", COUNTRY_OFFICES),
    ("en", "a recruiter wants 1500 dollars from me for a job in Canada, is that normal?", "work_abroad",
     "personal_help", "official immigration website", "CA", COUNTRY_OFFICES),
    ("fr", "un agent me demande de l'argent pour un travail en Italie, c'est normal ?", "work_abroad",
     "personal_help", "site officiel d'immigration", "IT", "https://italy.iom.int"),
    ("es", "un reclutador me pide dinero por un trabajo en España, ¿es normal?", "work_abroad",
     "personal_help", "sitio oficial de inmigración", "ES", COUNTRY_OFFICES),
    ("en", "people in my street insult me because I'm a foreigner", "discrimination", "personal_help",
     "local police or authorities", None, None),
    ("fr", "mes collègues m'insultent tous les jours parce que je suis étranger", "discrimination",
     "personal_help", "police ou aux autorités locales", None, None),
    ("es", "en el barrio me insultan por ser extranjero", "discrimination", "personal_help",
     "policía o a las autoridades locales", None, None),
    ("en", "my boss took my passport and makes me work for nothing", "exploitation", "trafficking",
     "national anti-trafficking hotline", None, None),
    ("fr", "mon patron garde mon passeport et ne me paie pas", "exploitation", "trafficking",
     "ligne d'assistance nationale contre la traite", None, None),
    ("es", "la señora de la casa donde trabajo guarda mi pasaporte y no me paga", "exploitation", "trafficking",
     "línea nacional de ayuda contra la trata", None, None),
]


@pytest.mark.parametrize("lang, text, situation, topic, turn_to, country, office", SITUATIONS)
def test_a_persons_situation_gets_kindness_then_where_to_turn(
    stack, lang, text, situation, topic, turn_to, country, office
):
    me = new_sender()
    reply = texts(stack.say(me, text))
    kind = facts_file.situation(situation)["text"][lang]
    assert reply.startswith(kind), reply  # the kind words come first, in the person's language
    assert turn_to in reply
    assert stack.slot(me, "topic") == topic and stack.slot(me, "situation") == situation
    assert stack.slot(me, "language") == lang
    if country:
        assert office in reply and stack.slot(me, "country") == country
    # "Source?" then cites that situation's own pages.
    source = texts(stack.say(me, {"fr": "source ?", "en": "source?", "es": "¿fuente?"}[lang]))
    first = facts_file.sources(facts_file.situation(situation), lang)
    assert first[0] in source


# Asylum and protection: who decides, UNHCR's role and IOM's, the caution about one's own
# country's authorities (written here, in each language).
ASYLUM = [
    ("en", "I want to ask for asylum, can IOM help me?", ("UNHCR", "IOM does not decide",
                                                         "your country's embassy")),
    ("fr", "je veux demander l'asile, l'OIM peut m'aider ?", ("HCR", "L'OIM ne décide pas",
                                                           "l'ambassade de votre pays")),
    ("es", "quiero pedir asilo, ¿la OIM me puede ayudar?", ("ACNUR", "La OIM no decide",
                                                          "la embajada de su país")),
]


@pytest.mark.parametrize("lang, text, said", ASYLUM)
def test_asking_for_asylum_says_who_decides_and_where_to_turn(stack, lang, text, said):
    me = new_sender()
    reply = texts(stack.say(me, text))
    assert reply.startswith(facts_file.text("asylum", "short", lang))
    assert all(part in reply for part in said)
    assert stack.slot(me, "topic") == "asylum" and stack.slot(me, "language") == lang


@pytest.mark.parametrize(
    "lang, text",
    [
        ("en", "What do you think of Europe's migration policies?"),
        ("fr", "Que pense l'OIM de la politique migratoire de l'Italie ?"),
        ("es", "¿Qué opina la OIM del muro de Trump?"),
    ],
)
def test_an_opinion_is_declined_with_what_can_be_told(stack, lang, text):
    me = new_sender()
    replies = stack.say(me, text)
    assert texts(replies) == facts_file.message("opinion", lang)
    payloads = [b["payload"] for b in replies[0]["buttons"]]
    assert "/ask_xenophobia" in payloads and "/ask_global_compact" in payloads
    assert stack.slot(me, "topic") is None


def test_a_term_and_the_difference_between_two(stack):
    me = new_sender()
    reply = texts(stack.say(me, "que veut dire apatride ?"))
    assert reply.startswith(facts_file.term("stateless_person")["text"]["fr"])
    assert stack.slot(me, "topic") == "key_terms" and stack.slot(me, "term") == "stateless_person"
    reply = texts(stack.say(me, "what's the difference between a refugee and an asylum seeker?"))
    assert facts_file.term("refugee")["text"]["en"] in reply and facts_file.term("asylum_seeker")["text"]["en"] in reply


def test_a_notice_of_the_server_follows_the_conversation_language(stack):
    """An empty message says nothing about its language: the server's own notice is in the
    conversation's language (here English, set by the first message), not the default."""
    me = new_sender()
    stack.say(me, "Where are IOM's headquarters?")
    assert stack.slot(me, "language") == "en"
    assert texts(stack.say(me, "   ")) == facts_file.message("empty", "en")


def short_messages():
    for path in sorted(SHORT_MESSAGES.glob("*.yml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            yield path.stem, entry


def test_short_messages_are_answered_in_their_language(stack):
    """Each message of tests/short_messages in a new conversation (after a first message in the
    conversation's language where the item gives one): the `language` slot of the reply. Figures
    per language go to results/short_messages.json (docs/testing.md, "Short messages")."""
    results = {}
    for lang, entry in short_messages():
        me = new_sender()
        if entry.get("conversation"):
            stack.say(me, OPENINGS[entry["conversation"]])
            assert stack.slot(me, "language") == entry["conversation"]
        stack.say(me, entry["text"])
        got = stack.slot(me, "language")
        result = results.setdefault(lang, {"messages": 0, "right": 0, "wrong": []})
        result["messages"] += 1
        if got == entry["reply_language"]:
            result["right"] += 1
        else:
            result["wrong"].append({"text": entry["text"], "expected": entry["reply_language"], "got": got})
    out = ROOT / "results" / "short_messages.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    assert set(results) == {"fr", "en", "es"} and all(r["messages"] >= 40 for r in results.values())
    for lang, result in results.items():
        # At most one miss in twenty per language (measured: docs/testing.md, "Short messages").
        assert result["right"] / result["messages"] >= 0.95, (lang, result["wrong"])
