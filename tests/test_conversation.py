"""Conversations over HTTP with the real Rasa server and action server (REST channel)."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest
import yaml

from actions.facts import DEFAULT_STATES_PATH
from tests import facts_file
from tests.servers import Stack, texts

pytestmark = pytest.mark.integration
STORIES = Path(__file__).parent / "stories" / "test_conversations.yml"
SPANISH_STORIES = Path(__file__).parent / "stories" / "test_conversations_es.yml"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("conversation")
    # A copy of the states list, so one test can edit it while the servers run.
    states = workdir / "states.tsv"
    shutil.copy(DEFAULT_STATES_PATH, states)
    running = Stack(workdir, env={"IOM_STATES_FILE": str(states)}).start()
    running.states_file = states
    yield running
    running.stop()


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def test_french_conversation_with_follow_ups(stack):
    me = new_sender()
    assert stack.slot(me, "topic") is None  # empty in a new conversation

    reply = stack.say(me, "Salut à toi !")
    assert "assistant de l'OIM" in texts(reply)
    assert stack.slot(me, "topic") is None  # small talk does not set it

    reply = stack.say(me, "Qui dirige l'OIM aujourd'hui ?")
    assert "Amy E. Pope" in texts(reply) and "1er octobre 2023" in texts(reply)
    assert stack.slot(me, "topic") == "director_general"
    assert any(b["payload"].startswith("/ask_") for b in reply[0]["buttons"])

    reply = stack.say(me, "pouvez-vous m'en dire davantage ?")
    assert "António Vitorino (2018-2023)" in texts(reply)
    assert texts(reply).endswith("Source (information de mai 2023) : https://www.iom.int/news/iom-council-elect-director-general")
    assert stack.slot(me, "topic") == "director_general"

    reply = stack.say(me, "d'où tenez-vous ça ?")
    assert "https://www.iom.int/news/iom-council-elect-director-general" in texts(reply)

    reply = stack.say(me, "et son adjoint alors ?")
    assert "Ugochi Daniels" in texts(reply)
    assert stack.slot(me, "topic") == "ddg_operations"

    reply = stack.say(me, "et combien de pays ?")
    assert "171" in texts(reply)
    assert stack.slot(me, "topic") == "presence"


def test_language_switch_follows_the_last_message(stack):
    me = new_sender()
    assert "Genève" in texts(stack.say(me, "Le siège de l'OIM, il est où ?"))
    english = texts(stack.say(me, "And when was it founded?"))
    assert "December 1951" in english
    assert stack.slot(me, "topic") == "history"
    french = texts(stack.say(me, "depuis quand donc ?"))
    assert "Depuis décembre 1951" in french


def test_french_spanish_english_in_one_conversation(stack):
    """One conversation switching French -> Spanish -> English: every reply in the language of
    the message it answers, follow-ups on the current topic, buttons keeping the language."""
    me = new_sender()
    french = stack.say(me, "Bonjour, le siège de l'OIM est dans quelle ville ?")
    assert "Genève" in texts(french) and "Source (information de 2025) : https://" in texts(french)
    assert stack.slot(me, "language") == "fr"

    spanish = stack.say(me, "hola, y quien esta al frente de la oim hoy en dia?")
    assert "Amy E. Pope" in texts(spanish) and "1 de octubre de 2023" in texts(spanish)
    assert "Fuente (información de mayo de 2023): https://www.iom.int/news/iom-council-elect-director-general" in texts(spanish)
    assert stack.slot(me, "topic") == "director_general" and stack.slot(me, "language") == "es"
    titles = [b["title"] for b in spanish[0]["buttons"]]
    assert "Cómo se dirige la OIM" in titles  # related topics, titled in Spanish

    assert "António Vitorino" in texts(stack.say(me, "me podrias dar un poco mas de detalle"))
    reply = texts(stack.say(me, "¿y quién es el adjunto?"))
    assert reply.startswith("La OIM tiene dos puestos de Director General Adjunto")
    assert "Ugochi Daniels" in reply and stack.slot(me, "topic") == "ddg_operations"
    assert texts(stack.say(me, "desde cuando?")) == (
        "Ugochi Daniels asumió el puesto en septiembre de 2021; mi confirmación más reciente es anterior a octubre de 2023."
    )
    source = texts(stack.say(me, "¿de dónde sale eso?"))
    assert source.startswith("Fuentes (información de septiembre de 2021):\nhttps://usgovernmentmanual.gov/")
    assert source.endswith("\nhttps://www.iom.int/iom-organizational-structure")
    # A button payload says nothing about the language: the conversation stays in Spanish.
    answer = texts(stack.say(me, "/ask_identity"))
    assert "Fuente (información de 2025): https://www.iom.int/es/quienes-somos" in answer and "175 Estados Miembros" in answer
    for text, expected in (("gracias amigo", "thanks"), ("Vale", None), ("hola otra vez", "greet")):
        reply = texts(stack.say(me, text))
        assert stack.slot(me, "language") == "es", text
        if expected:
            assert reply == facts_file.message(expected, "es"), text

    english = texts(stack.say(me, "And what does IOM do exactly?"))
    assert "2030 Agenda" in english and "Source (as of 2025): https://www.iom.int/iom-organizational-structure" in english
    assert stack.slot(me, "language") == "en" and stack.slot(me, "topic") == "our_work"
    assert "December 1951" in texts(stack.say(me, "/ask_history"))  # a button: still English
    assert stack.slot(me, "language") == "en"
    assert texts(stack.say(me, "adiós, hasta pronto")) == facts_file.message("goodbye", "es")


def test_since_when_is_answered_on_the_current_topic(stack):
    me = new_sender()
    stack.say(me, "Does IOM belong to the United Nations system?")
    assert stack.slot(me, "topic") == "un_system"
    assert "19 September 2016" in texts(stack.say(me, "since when exactly?"))
    assert stack.slot(me, "topic") == "un_system"


WIKIPEDIA = "https://en.wikipedia.org/wiki/International_Organization_for_Migration"
OFFICIAL_LIST = "https://www.iom.int/member-states"
COUNTRY_OFFICES = "https://www.iom.int/country-offices"


def test_member_then_since_when_then_source_in_french(stack):
    """The issue's own example: "Le Sénégal est-il membre de l'OIM ?", then its date and source."""
    me = new_sender()
    reply = texts(stack.say(me, "Le Sénégal est-il membre de l'OIM ?"))
    assert reply.startswith("Sénégal : oui, c'est un État membre de l'OIM") and WIKIPEDIA in reply
    assert stack.slot(me, "topic") == "member_states" and stack.slot(me, "country") == "SN"
    reply = texts(stack.say(me, "il est membre depuis quand ?"))
    assert reply.startswith("Sénégal : ma liste ne dit pas depuis quand") and OFFICIAL_LIST in reply
    assert stack.slot(me, "country") == "SN"
    reply = texts(stack.say(me, "et d'où vient cette information ?"))
    assert reply.startswith("Source : l'article Wikipédia en anglais sur l'OIM, 2023 : " + WIKIPEDIA)
    assert stack.slot(me, "topic") == "member_states" and stack.slot(me, "country") == "SN"
    reply = texts(stack.say(me, "et pour le japon alors ?"))
    assert reply.startswith("Japon : oui") and "1993" in reply and stack.slot(me, "country") == "JP"


def test_member_then_since_when_then_source_in_english(stack):
    me = new_sender()
    reply = texts(stack.say(me, "Is Japan a member state?"))
    assert reply.startswith("Japan: yes, it is a Member State of IOM") and "1993" in reply
    assert stack.slot(me, "topic") == "member_states" and stack.slot(me, "country") == "JP"
    reply = texts(stack.say(me, "since what year exactly?"))
    assert "Japan" in reply and "1993" in reply and "June 2001" in reply
    reply = texts(stack.say(me, "what's your source for that?"))
    assert "lawsdocbox.com" in reply and "June 2001" in reply
    assert stack.slot(me, "country") == "JP"


def test_observers_not_listed_and_territories_are_answered_honestly(stack):
    me = new_sender()
    reply = texts(stack.say(me, "Is Saudi Arabia a member?"))
    assert reply.startswith("Saudi Arabia: not a Member State of IOM, but one of the 8 Observer States on my list (as of 2023)")
    assert stack.slot(me, "country") == "SA"
    reply = texts(stack.say(me, "Is the Holy See a member?"))
    assert reply.startswith("Holy See: yes") and "2011" in reply and stack.slot(me, "country") == "VA"
    reply = texts(stack.say(me, "is Lebanon a member of IOM?"))
    assert "does not appear among IOM's 175 Member States and 8 Observer States" in reply
    assert OFFICIAL_LIST in reply and "not a member." not in reply
    reply = texts(stack.say(me, "Is DR Congo a member?"))
    assert reply.startswith("Democratic Republic of the Congo (Congo-Kinshasa): yes")
    assert stack.slot(me, "country") == "CD"
    reply = texts(stack.say(me, "La Réunion est-elle membre de l'OIM ?"))
    assert reply.startswith("La Réunion : ce n'est ni un État membre ni un État observateur de l'ONU")
    reply = texts(stack.say(me, "Is Atlantis a member?"))
    assert OFFICIAL_LIST in reply and "not a member" not in reply


def test_the_states_list_as_a_whole(stack):
    me = new_sender()
    reply = texts(stack.say(me, "which countries have observer status at IOM?"))
    for name in ("Bahrain", "Bhutan", "Indonesia", "Kuwait", "Malaysia", "Qatar", "San Marino", "Saudi Arabia"):
        assert name in reply
    assert stack.slot(me, "topic") == "member_states"
    reply = texts(stack.say(me, "qui sont les derniers pays devenus membres ?"))
    assert "Russie (2021)" in reply and "Parmi les États membres dont ma liste (à jour en 2023) donne l'année" in reply
    assert "Selon tass.com, avril 2021 : https://tass.com/politics/1280031" in reply.splitlines()


def test_iom_in_a_country_then_its_date_and_source(stack):
    me = new_sender()
    reply = texts(stack.say(me, "Where can I find IOM in Senegal?"))
    assert COUNTRY_OFFICES in reply and "Senegal: yes" in reply
    assert stack.slot(me, "topic") == "presence" and stack.slot(me, "country") == "SN"
    reply = texts(stack.say(me, "et en Autriche ?"))
    assert "https://austria.iom.int" in reply and stack.slot(me, "topic") == "presence"
    assert stack.slot(me, "country") == "AT"
    reply = texts(stack.say(me, "depuis quelle année alors ?"))
    assert "Autriche" in reply and "1952" in reply
    assert stack.slot(me, "topic") == "presence" and stack.slot(me, "country") == "AT"


def test_an_edit_of_the_states_list_is_live_on_the_next_message(stack):
    """No restart, no retraining: the action server reloads facts/states.tsv, and an invalid edit
    leaves the last good version answering."""
    original = stack.states_file.read_text(encoding="utf-8")
    senegal = next(line for line in original.splitlines() if line.startswith("SN\t"))

    def write(text, bump):
        stack.states_file.write_text(text, encoding="utf-8")
        stamp = time.time() + bump
        os.utime(stack.states_file, (stamp, stamp))

    try:
        write(original.replace(senegal, senegal.replace("\t2023\t", "\t2025-01\t")), 5)
        assert "on IOM, January 2025: " + WIKIPEDIA in texts(stack.say(new_sender(), "Is Senegal a member of IOM?"))
        write(original.replace(senegal, senegal.replace("\tmember\t", "\tmembre\t")), 10)
        reply = texts(stack.say(new_sender(), "Is Senegal a member of IOM?"))
        assert reply.startswith("Senegal: yes") and "on IOM, January 2025: " + WIKIPEDIA in reply
    finally:
        write(original, 15)
    assert "on IOM, 2023: " + WIKIPEDIA in texts(stack.say(new_sender(), "Is Senegal a member of IOM?"))


def test_tempting_country_messages_get_no_wrong_fact(stack):
    """tests/tempting_countries.yml: common nouns, first names, the two Congos, territories and
    regions, in French, English and Spanish (tests/tools/tempting_countries.py prints the same)."""
    from tests.tools.tempting_countries import run

    results = run(stack)
    problems = [
        (lang, row["text"], row["verdict"], row["topic"], row["country"], row["expected"])
        for lang, result in results.items() for row in result["rows"] if row["verdict"] != "right"
    ]
    assert not problems, problems


def test_button_payloads_answer_their_topic(stack):
    me = new_sender()
    reply = stack.say(me, "Hello there")
    payload = reply[0]["buttons"][0]["payload"]
    answer = stack.say(me, payload)
    assert stack.slot(me, "topic") == payload[len("/ask_"):].split("{")[0]
    assert "Source (as of" in texts(answer)  # still English: a payload does not change the language
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


def turns_of(story):
    """(user text, its intent, the actions the story expects after it) for each user step."""
    turns = []
    for step in story["steps"]:
        if "user" in step:
            turns.append((step["user"], step["intent"], []))
        elif "action" in step and turns:
            turns[-1][2].append(step["action"])
    return turns


def actions_of_last_turn(tracker):
    """The actions the server ran after the latest user message (action_listen aside)."""
    events = tracker["events"]
    last_user = max(i for i, e in enumerate(events) if e["event"] == "user")
    return [e["name"] for e in events[last_user + 1:]
            if e["event"] == "action" and e["name"] != "action_listen"]


def replay_stories(stack, path: Path):
    """Replays a test stories file through the real Rasa and action servers, one conversation per
    story: this is the test of the stories (docs/testing.md, "What `make test` runs"). Returns the
    steps whose predicted intent or actions differ from the story's, the language slot after each
    step, and the fact ids never reached."""
    stories = yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]
    wrong, languages, topics = [], [], set()
    for story in stories:
        me = new_sender()
        for text, intent, actions in turns_of(story):
            stack.say(me, text)
            tracker = stack.tracker(me)
            predicted = tracker["latest_message"]["intent"]["name"]
            if predicted != intent:
                wrong.append((text, intent, predicted))
            ran = actions_of_last_turn(tracker)
            if ran != actions:
                wrong.append((text, actions, ran))
            languages.append((text, tracker["slots"]["language"]))
            topics.add(tracker["slots"]["topic"])
    return wrong, languages, set(facts_file.fact_ids()) - topics


def test_every_fact_id_is_reachable_in_both_languages(stack):
    """The French and English test stories: the NLU's intents and every fact reached."""
    wrong, _, unreached = replay_stories(stack, STORIES)
    assert not wrong, wrong
    assert not unreached, unreached


@pytest.mark.parametrize(
    "message, lang, where_to_turn, situation, kind",
    [
        ("I lost my passport in Libya, what do I do?", "en", "embassy or consulate", "lost_papers", "sorry"),
        ("I want to migrate to Canada, can you help?", "en", "https://www.iom.int/country-offices",
         "work_abroad", "understandable"),
        ("J'ai perdu mon passeport en Libye, que faire ?", "fr", "ambassade ou au consulat", "lost_papers", "désolé"),
        ("Je veux émigrer au Canada, vous pouvez m'aider ?", "fr", "https://www.iom.int/country-offices",
         "work_abroad", "se comprend"),
        ("ma soeur et ses enfants sont en danger là-bas, on fait quoi ?", "fr", "secours", None, "désolé"),
    ],
)
def test_own_situation_gets_where_to_turn_kindly(stack, message, lang, where_to_turn, situation, kind):
    me = new_sender()
    reply = stack.say(me, message)
    text = texts(reply)
    assert where_to_turn in text and kind in text.lower()
    assert stack.slot(me, "topic") == "personal_help" and stack.slot(me, "language") == lang
    assert stack.slot(me, "situation") == situation
    # Never a dead end: the related topics of that situation (facts file) are buttons, and answer.
    data = facts_file.data()
    related = (data["situations"].get(situation) or data["facts"]["personal_help"])["related"]
    payloads = [b["payload"] for b in reply[0]["buttons"]]
    assert payloads == [f"/ask_{fact_id}" for fact_id in related]
    stack.say(me, payloads[0])
    assert stack.slot(me, "topic") == related[0]


def test_own_situation_then_more_warns_about_requests_for_money(stack):
    me = new_sender()
    stack.say(me, "someone took my papers at the station and I'm stuck here")
    assert stack.slot(me, "topic") == "personal_help"
    more = texts(stack.say(me, "tell me a bit more about that"))
    # The UN's job-fraud advice (IOM's own "never charges" is on no IOM page), and this chat's word.
    assert "the UN's advice on job fraud" in more and "this chat will never ask you for money" in more


@pytest.mark.parametrize(
    "message, office",
    [
        ("Qui s'occupe des opérations à l'OIM ?", "ddg_operations"),
        ("Quel bureau gère la communication ?", "office_partnerships"),
        ("Qui s'occupe de la stratégie ?", "office_strategy"),
        ("qui s'occupe des operations a l'OIM", "ddg_operations"),
        ("quel bureau gere la communication", "office_partnerships"),
        ("qui est responsable de la gestion et de la reforme ?", "ddg_management_reform"),
        ("qui est à la tête du cabinet de la directrice generale ?", "chief_of_staff"),
        ("Who handles operations at IOM?", "ddg_operations"),
        ("which office does advocacy and communications?", "office_partnerships"),
        ("who is in charge of organizational performance?", "office_strategy"),
        ("who leads management and reform at IOM?", "ddg_management_reform"),
        ("¿Quién se encarga de las operaciones en la OIM?", "ddg_operations"),
        ("¿qué oficina se ocupa de la comunicacion?", "office_partnerships"),
    ],
)
def test_offices_named_by_what_they_do(stack, message, office):
    me = new_sender()
    stack.say(me, message)
    assert stack.slot(me, "topic") == office


def test_a_question_about_iom_with_no_fact_gets_an_honest_answer(stack):
    me = new_sender()
    stack.say(me, "Who is IOM's Director General these days?")
    reply = texts(stack.say(me, "What is IOM's annual budget?"))
    assert "don't have that figure" in reply and "https://www.iom.int" in reply
    assert "partner" not in reply.lower()
    # No fact was given: the topic stays the one of the last fact.
    assert stack.slot(me, "topic") == "director_general"
    reply = texts(stack.say(me, "Quel est le budget de l'OIM ?"))
    assert "pas ce chiffre" in reply and stack.slot(me, "topic") == "director_general"



# "When unsure, suggest" (docs/what-it-answers.md; the floor measured: docs/testing.md): the topics
# the classifier ranked at SUGGESTION_FLOOR or more, at most three, in its order. Written here,
# apart from actions/understanding.py: what each ranked intent offers as a button (no office or
# country named in the message below).
SUGGESTION_FLOOR = 0.08
NOT_A_TOPIC = {
    "nlu_fallback", "greet", "goodbye", "thanks", "bot_challenge", "help", "out_of_scope",
    "ask_more", "ask_source", "ask_since_when", "ask_not_in_facts", "ask_observer_states",
    "ask_newest_members",
}
BUTTON_OF = {"ask_office": "/ask_leadership", "ask_leadership": "/ask_leadership",
             "inform_country": "/ask_member_states"}


def test_not_understood_suggests_the_topics_the_classifier_ranked_highest(stack):
    me = new_sender()
    reply = stack.say(me, "the office thing")
    latest = stack.tracker(me)["latest_message"]
    assert latest["intent"]["name"] == "nlu_fallback", "pick a message this model is unsure of"
    assert not latest["entities"], "pick a message that names no office or country"
    expected = []
    for ranked in latest["intent_ranking"]:
        name = ranked["name"]
        if ranked["confidence"] >= SUGGESTION_FLOOR and name not in NOT_A_TOPIC:
            button = BUTTON_OF.get(name, "/" + name)
            if button not in expected:
                expected.append(button)
    expected = expected[:3]
    assert expected, latest["intent_ranking"]
    assert texts(reply) == facts_file.message("not_understood_suggest", "en")
    payloads = [b["payload"] for b in reply[0]["buttons"]]
    assert payloads[: len(expected)] == expected
    assert stack.slot(me, "topic") is None


def test_every_fact_id_is_reachable_in_spanish_with_spanish_replies(stack):
    """The Spanish test stories: the NLU's intents, every reply in Spanish (slot `language`), and
    every fact of the facts file reached from Spanish questions."""
    wrong, languages, unreached = replay_stories(stack, SPANISH_STORIES)
    assert not wrong, wrong
    assert not [text for text, lang in languages if lang != "es"]
    assert not unreached, unreached
