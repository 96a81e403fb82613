"""Conversations over HTTP with the real Rasa server and action server (REST channel)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from actions.facts import FactStore
from tests.servers import Stack, texts

pytestmark = pytest.mark.integration
STORIES = Path(__file__).parent / "stories" / "test_conversations.yml"
SPANISH_STORIES = Path(__file__).parent / "stories" / "test_conversations_es.yml"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("conversation")).start()
    yield running
    running.stop()


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def test_french_conversation_with_follow_ups(stack):
    me = new_sender()
    assert stack.slot(me, "topic") is None  # empty in a new conversation

    reply = stack.say(me, "Bonjour !")
    assert "assistant de l'OIM" in texts(reply)
    assert stack.slot(me, "topic") is None  # small talk does not set it

    reply = stack.say(me, "Qui dirige l'OIM aujourd'hui ?")
    assert "Amy E. Pope" in texts(reply) and "1er octobre 2023" in texts(reply)
    assert stack.slot(me, "topic") == "director_general"
    assert any(b["payload"].startswith("/ask_") for b in reply[0]["buttons"])

    reply = stack.say(me, "dites-m'en plus")
    assert "15 mai 2023" in texts(reply)
    assert stack.slot(me, "topic") == "director_general"

    reply = stack.say(me, "source ?")
    assert "https://www.iom.int/news/iom-council-elect-director-general" in texts(reply)

    reply = stack.say(me, "et l'adjoint ?")
    assert "Ugochi Daniels" in texts(reply)
    assert stack.slot(me, "topic") == "ddg_operations"

    reply = stack.say(me, "et combien de pays ?")
    assert "171" in texts(reply)
    assert stack.slot(me, "topic") == "presence"


def test_language_switch_follows_the_last_message(stack):
    me = new_sender()
    assert "Genève" in texts(stack.say(me, "Où se trouve le siège de l'OIM ?"))
    english = texts(stack.say(me, "And when was it founded?"))
    assert "December 1951" in english
    assert stack.slot(me, "topic") == "history"
    french = texts(stack.say(me, "depuis quand ?"))
    assert "Depuis décembre 1951" in french


def test_french_spanish_english_in_one_conversation(stack):
    """One conversation switching French -> Spanish -> English: every reply in the language of
    the message it answers, follow-ups on the current topic, buttons keeping the language."""
    me = new_sender()
    french = stack.say(me, "Bonjour, le siège de l'OIM est dans quelle ville ?")
    assert "Genève" in texts(french) and "Source :" in texts(french)
    assert stack.slot(me, "language") == "fr"

    spanish = stack.say(me, "hola, y quien esta al frente de la oim hoy en dia?")
    assert "Amy E. Pope" in texts(spanish) and "1 de octubre de 2023" in texts(spanish)
    assert "Fuente: https://www.iom.int/news/iom-council-elect-director-general" in texts(spanish)
    assert stack.slot(me, "topic") == "director_general" and stack.slot(me, "language") == "es"
    titles = [b["title"] for b in spanish[0]["buttons"]]
    assert "Cómo se dirige la OIM" in titles  # related topics, titled in Spanish

    assert "15 de mayo de 2023" in texts(stack.say(me, "me podrias dar un poco mas de detalle"))
    reply = texts(stack.say(me, "¿y el adjunto?"))
    assert reply.startswith("La OIM tiene dos Directores Generales Adjuntos.")
    assert "Ugochi Daniels" in reply and stack.slot(me, "topic") == "ddg_operations"
    assert texts(stack.say(me, "desde cuando?")) == "Ugochi Daniels ocupa el puesto desde septiembre de 2021."
    source = texts(stack.say(me, "¿fuente?"))
    assert source.startswith("Fuente: https://www.iom.int/iom-organizational-structure")
    assert "a fecha de 2021-09" in source
    # A button payload says nothing about the language: the conversation stays in Spanish.
    answer = texts(stack.say(me, "/ask_identity"))
    assert "Fuente: https://www.iom.int/es/quienes-somos" in answer and "175 Estados Miembros" in answer
    for text, expected in (("Gracias", "thanks"), ("Vale", None), ("Hola", "greet")):
        reply = texts(stack.say(me, text))
        assert stack.slot(me, "language") == "es", text
        if expected:
            assert reply == FactStore().current().message(expected, "es"), text

    english = texts(stack.say(me, "And what does IOM do exactly?"))
    assert "2030 Agenda" in english and "Source: https://www.iom.int/fr/qui-sommes-nous" in english
    assert stack.slot(me, "language") == "en" and stack.slot(me, "topic") == "our_work"
    assert "December 1951" in texts(stack.say(me, "/ask_history"))  # a button: still English
    assert stack.slot(me, "language") == "en"
    assert texts(stack.say(me, "Adiós")) == FactStore().current().message("goodbye", "es")


def test_since_when_is_answered_on_the_current_topic(stack):
    me = new_sender()
    stack.say(me, "Is IOM part of the United Nations?")
    assert stack.slot(me, "topic") == "un_system"
    assert "19 September 2016" in texts(stack.say(me, "since when?"))
    assert stack.slot(me, "topic") == "un_system"


def test_country_membership_is_confirmed_only_when_sourced(stack):
    me = new_sender()
    reply = texts(stack.say(me, "La Chine est-elle membre de l'OIM ?"))
    assert reply.startswith("Oui") and "Chine" in reply and "2016" in reply
    assert stack.slot(me, "country") == "CN"
    reply = texts(stack.say(me, "et le Brésil ?"))
    assert "Brésil" in reply and "https://www.iom.int/member-states" in reply
    assert "n'est pas" not in reply
    reply = texts(stack.say(me, "Is Atlantis a member?"))
    assert "https://www.iom.int/member-states" in reply and "not a member" not in reply


def test_button_payloads_answer_their_topic(stack):
    me = new_sender()
    reply = stack.say(me, "Hello")
    payload = reply[0]["buttons"][0]["payload"]
    answer = stack.say(me, payload)
    assert stack.slot(me, "topic") == payload[len("/ask_"):].split("{")[0]
    assert "Source:" in texts(answer)  # still English: a payload does not change the language
    office = stack.say(me, '/ask_office{"office":"chief_of_staff"}')
    assert "Chief of Staff" in texts(office)
    assert stack.slot(me, "topic") == "chief_of_staff"


def test_off_topic_and_not_understood_are_polite_and_leave_the_topic(stack):
    me = new_sender()
    stack.say(me, "What is the Global Compact for Migration?")
    assert stack.slot(me, "topic") == "global_compact"
    reply = texts(stack.say(me, "Can you recommend a good pizza place?"))
    assert "only answer questions about IOM" in reply
    reply = texts(stack.say(me, "asdkjh qwpoeiru zxmcnv"))
    # Gibberish gets a polite "not understood" or "I only answer about IOM", never a fact.
    assert "understand" in reply or "only answer questions about IOM" in reply
    assert stack.slot(me, "topic") == "global_compact"


def test_every_fact_id_is_reachable_in_both_languages(stack):
    """Replays the test stories' questions through the real server and checks the intent the
    NLU predicts (Rasa 3.6's `rasa test core` only checks the actions) and the topic set."""
    stories = yaml.safe_load(STORIES.read_text(encoding="utf-8"))["stories"]
    wrong, topics = [], set()
    for story in stories:
        me = new_sender()
        for step in story["steps"]:
            if "user" not in step:
                continue
            stack.say(me, step["user"])
            tracker = stack.tracker(me)
            predicted = tracker["latest_message"]["intent"]["name"]
            if predicted != step["intent"]:
                wrong.append((step["user"], step["intent"], predicted))
            topics.add(tracker["slots"]["topic"])
    assert not wrong, wrong
    facts = yaml.safe_load((Path(__file__).parents[1] / "facts" / "facts.yml").read_text())
    assert set(facts["facts"]) <= topics, set(facts["facts"]) - topics


def test_every_fact_id_is_reachable_in_spanish_with_spanish_replies(stack):
    """The Spanish test stories through the real server: the predicted intents, every reply in
    Spanish (slot `language`), and every fact of the facts file reached from Spanish questions."""
    stories = yaml.safe_load(SPANISH_STORIES.read_text(encoding="utf-8"))["stories"]
    wrong, not_spanish, topics = [], [], set()
    for story in stories:
        me = new_sender()
        for step in story["steps"]:
            if "user" not in step:
                continue
            stack.say(me, step["user"])
            tracker = stack.tracker(me)
            predicted = tracker["latest_message"]["intent"]["name"]
            if predicted != step["intent"]:
                wrong.append((step["user"], step["intent"], predicted))
            if tracker["slots"]["language"] != "es":
                not_spanish.append(step["user"])
            topics.add(tracker["slots"]["topic"])
    assert not wrong, wrong
    assert not not_spanish, not_spanish
    facts = yaml.safe_load((Path(__file__).parents[1] / "facts" / "facts.yml").read_text())
    assert set(facts["facts"]) <= topics, set(facts["facts"]) - topics
