"""The custom actions, run on rasa-sdk trackers as the action server runs them."""

import asyncio

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import understanding
from actions.actions import ActionAnswerFact
from actions.facts import load_facts
from tests import facts_file
from tests.servers import ROOT

SLOTS = ("topic", "country", "language", "channel_language")


def tracker(text, intent, entities=(), metadata=None, **slots):
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": list(entities),
        "metadata": metadata or {},
    }
    return Tracker(
        "user", {name: slots.get(name) for name in SLOTS}, latest, [], False, None, {}, "action_listen"
    )


def run(action, tracker_):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, {}))
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return dispatcher.messages, slots


def country(code):
    return {"entity": "country", "value": code}


def office(value):
    return {"entity": "office", "value": value}


def test_french_question_gets_french_answer_topic_and_related_buttons():
    messages, slots = run(ActionAnswerFact(), tracker("Qui dirige l'OIM ?", "ask_office"))
    assert len(messages) == 1
    text = messages[0]["text"]
    assert "Amy E. Pope" in text and "Directrice générale" in text
    assert "iom.int" in text  # the source is shown
    assert slots["topic"] == "director_general" and slots["language"] == "fr"
    buttons = messages[0]["buttons"]
    assert 2 <= len(buttons) <= 3
    assert {"title": "Direction de l'OIM", "payload": "/ask_leadership"} in buttons
    assert all(b["payload"].startswith("/ask_") for b in buttons)


def test_english_question_gets_english_answer():
    messages, slots = run(ActionAnswerFact(), tracker("Where is the headquarters of IOM?", "ask_headquarters"))
    assert "Geneva" in messages[0]["text"] and "Genève" not in messages[0]["text"]
    assert slots == {"language": "en", "topic": "headquarters", "country": None, "term": None, "situation": None}
    # The message says its language (the web page marks the bubble lang="en").
    assert messages[0]["language"] == "en"


def test_office_entity_picks_the_office_and_buttons_carry_it():
    messages, slots = run(
        ActionAnswerFact(), tracker("who is the chief of staff", "ask_office", [office("chief_of_staff")])
    )
    assert slots["topic"] == "chief_of_staff"
    assert "Chief of Staff" in messages[0]["text"]
    assert "no confirmed source" in messages[0]["text"]  # no invented name
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/ask_office{"office":"director_general"}' in payloads


def test_the_deputy_names_both_deputies():
    messages, slots = run(
        ActionAnswerFact(),
        tracker("and the deputy?", "ask_office", [office("ddg")], topic="director_general", language="en"),
    )
    text = messages[0]["text"]
    assert text.startswith("IOM has two Deputy Director General posts (the structure it presented as of 2025).")
    assert "Ugochi Daniels" in text and "Management and Reform" in text
    assert slots["topic"] == "ddg_operations"


def test_sourced_member_country_is_confirmed():
    messages, slots = run(
        ActionAnswerFact(), tracker("La France est-elle membre de l'OIM ?", "ask_member_states", [country("FR")])
    )
    text = messages[0]["text"]
    assert text.startswith("France : oui") and "1951" in text and "1992" in text
    assert "https://france.iom.int/fr" in text
    assert slots["topic"] == "member_states" and slots["country"] == "FR"


@pytest.mark.parametrize("lang_text, name", [("Is Lebanon a member of IOM?", "Lebanon"), ("Le Liban est membre ?", "Liban")])
def test_a_country_not_on_the_list_is_never_flatly_denied(lang_text, name):
    messages, slots = run(ActionAnswerFact(), tracker(lang_text, "ask_member_states", [country("LB")]))
    text = messages[0]["text"]
    assert name in text and "https://www.iom.int/member-states" in text and "2023" in text
    lowered = text.lower()
    assert "not a member" not in lowered and "n'est pas membre" not in lowered
    assert slots["topic"] == "member_states" and slots["country"] == "LB"


def test_unknown_country_fragment_points_to_the_official_list():
    messages, slots = run(ActionAnswerFact(), tracker("et le Wakanda ?", "inform_country"))
    assert "https://www.iom.int/member-states" in messages[0]["text"]
    assert "pas reconnu" in messages[0]["text"]
    assert slots["topic"] == "member_states"


def test_follow_ups_work_on_the_current_topic():
    more, slots = run(ActionAnswerFact(), tracker("dites-m'en plus", "ask_more", topic="director_general", language="fr"))
    assert "António Vitorino (2018-2023)" in more[0]["text"] and slots["topic"] == "director_general"
    source, slots = run(ActionAnswerFact(), tracker("source ?", "ask_source", topic="director_general", language="fr"))
    assert "https://www.iom.int/news/iom-council-elect-director-general" in source[0]["text"]
    # Every source on its own line, the date in the reader's language.
    assert source[0]["text"] == (
        "Sources (information de mai 2023) :\n"
        "https://www.iom.int/news/iom-council-elect-director-general\n"
        "https://moscow.iom.int/constitution"
    )
    assert slots["topic"] == "director_general"
    since, _ = run(ActionAnswerFact(), tracker("since when?", "ask_since_when", topic="un_system", language="fr"))
    assert "19 September 2016" in since[0]["text"]  # the user switched to English


def test_since_when_after_a_country_answer_is_about_that_country():
    since, slots = run(
        ActionAnswerFact(), tracker("since when?", "ask_since_when", topic="member_states", country="CN", language="en")
    )
    assert "China" in since[0]["text"] and "since 2016" in since[0]["text"]
    assert "https://iom.int/eligible-member-states-line-2" in since[0]["text"]
    assert slots["country"] == "CN" and slots["topic"] == "member_states"


def test_since_when_without_a_sourced_date_says_so():
    since, _ = run(ActionAnswerFact(), tracker("depuis quand ?", "ask_since_when", topic="headquarters"))
    assert "pas de date sourcée" in since[0]["text"] and "https://" in since[0]["text"]


def test_follow_up_without_topic_offers_topics_and_leaves_topic_empty():
    messages, slots = run(ActionAnswerFact(), tracker("tell me more", "ask_more"))
    assert "topic" not in slots
    assert messages[0]["buttons"]


def test_page_language_is_the_default_until_the_user_writes_otherwise():
    messages, slots = run(ActionAnswerFact(), tracker("/greet", "greet", metadata={"language": "en"}))
    assert messages[0]["text"].startswith("Hello")
    assert slots == {"language": "en", "channel_language": "en"}
    page_en = {"metadata": {"language": "en"}, "channel_language": "en"}
    messages, slots = run(ActionAnswerFact(), tracker("bonjour", "greet", language="en", **page_en))
    assert messages[0]["text"].startswith("Bonjour") and slots == {"language": "fr"}
    # The page is still English, but the user writes French: an ambiguous message stays French.
    messages, slots = run(ActionAnswerFact(), tracker("OIM ?", "ask_identity", language="fr", **page_en))
    assert slots["language"] == "fr"


def test_switching_the_page_language_switches_ambiguous_messages():
    # French conversation; the user flips the page to English and clicks a button.
    messages, slots = run(
        ActionAnswerFact(),
        tracker("/ask_history", "ask_history", metadata={"language": "en"}, language="fr", channel_language="fr"),
    )
    assert "December 1951" in messages[0]["text"]
    assert slots["language"] == "en" and slots["channel_language"] == "en"


def test_ambiguous_short_message_keeps_the_conversation_language():
    messages, slots = run(ActionAnswerFact(), tracker("OIM ?", "ask_identity", language="en"))
    assert slots["language"] == "en" and "International Organization for Migration" in messages[0]["text"]


@pytest.mark.parametrize("intent", ["greet", "goodbye", "thanks", "bot_challenge", "help", "out_of_scope", "nlu_fallback"])
def test_small_talk_never_sets_the_topic(intent):
    messages, slots = run(ActionAnswerFact(), tracker("hmm", intent, language="en", topic="visas"))
    assert set(slots) == {"language"}
    assert messages[0]["text"]


def test_out_of_scope_says_what_the_assistant_can_answer():
    messages, _ = run(ActionAnswerFact(), tracker("quel temps fait-il à Paris ?", "out_of_scope"))
    assert "OIM" in messages[0]["text"] and messages[0]["buttons"]


def test_a_named_office_wins_over_a_not_understood_guess():
    messages, slots = run(
        ActionAnswerFact(),
        tracker("tell me what the office of the chief of staff does", "nlu_fallback", [office("chief_of_staff")]),
    )
    assert slots["topic"] == "chief_of_staff" and "Chief of Staff" in messages[0]["text"]


def test_a_named_office_does_not_overrule_off_topic():
    # Other organisations have chiefs of staff and directors general too.
    messages, slots = run(
        ActionAnswerFact(),
        tracker("who is the White House chief of staff?", "out_of_scope", [office("chief_of_staff")], language="en"),
    )
    assert "topic" not in slots and "only answer questions about IOM" in messages[0]["text"]


def test_country_fragment_without_a_country_falls_back_to_the_next_fact_intent():
    t = tracker("et le siège ?", "inform_country", language="fr")
    t.latest_message["intent_ranking"] = [
        {"name": "inform_country", "confidence": 0.6},
        {"name": "ask_headquarters", "confidence": 0.3},
    ]
    messages, slots = run(ActionAnswerFact(), t)
    assert slots["topic"] == "headquarters" and "Genève" in messages[0]["text"]


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "ZZ", "france", ""])
def test_a_country_value_that_is_not_a_country_code_is_never_echoed(value):
    messages, slots = run(ActionAnswerFact(), tracker("/ask_member_states", "ask_member_states", [country(value)]))
    text = messages[0]["text"]
    assert "https://www.iom.int/member-states" in text
    assert "<script>" not in text and (not value or value not in text.split("(")[0])
    assert slots["topic"] == "member_states"


def test_markup_only_message_is_not_understood():
    messages, slots = run(ActionAnswerFact(), tracker("<img src=x onerror=alert(1)>", "ask_agenda_2030", language="en"))
    assert messages[0]["text"].startswith("Sorry, I didn't understand")
    assert "topic" not in slots


# --- A person's own situation (fact personal_help) --------------------------------------------


@pytest.mark.parametrize(
    "text, lang, embassy, emergency, no_data",
    [
        ("I lost my passport in Libya, what do I do?", "en", "embassy or consulate", "emergency services",
         "don't send me personal details"),
        ("J'ai perdu mon passeport en Libye, que faire ?", "fr", "ambassade ou au consulat", "secours",
         "ne pas m'envoyer d'informations personnelles"),
    ],
)
def test_own_situation_says_where_to_turn_and_asks_for_no_personal_data(text, lang, embassy, emergency, no_data):
    messages, slots = run(ActionAnswerFact(), tracker(text, "ask_personal_help"))
    reply = messages[0]["text"]
    assert embassy in reply and emergency in reply and no_data in reply
    assert "https://www.iom.int/country-offices" in reply
    assert slots["topic"] == "personal_help" and slots["language"] == lang
    # Never a dead end: return home, trafficking and visas are one tap away.
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_voluntary_return", "/ask_trafficking", "/ask_visas"]


def test_own_situation_is_short_and_its_more_covers_jobs_abroad_and_fees():
    facts = load_facts()
    for lang in ("fr", "en", "es"):
        assert len(facts.text("personal_help", "short", lang)) < 600, lang
    more = facts.text("personal_help", "long", "en")
    # IOM's own "never charges" is not on an IOM page (fact-sheet-v3.md): the UN's advice instead.
    assert "never charges" not in more and "official immigration website" in more
    assert "the UN's advice on job fraud" in more and "this chat will never ask you for money" in more


def test_own_situation_texts_in_spanish():
    # Spanish replies need the Spanish language detection (another branch); the texts are here.
    facts = load_facts()
    short = facts.text("personal_help", "short", "es")
    assert "embajada o al consulado" in short and "servicios de emergencia" in short
    assert "no me envíe datos personales" in short and "https://www.iom.int/country-offices" in short
    assert facts.text("personal_help", "title", "es") == "Su situación"
    assert "https://www.iom.int/es" in facts.message("not_in_facts", "es")
    assert facts.message("not_understood_suggest", "es").endswith("?")


@pytest.mark.parametrize("fact_id", ["voluntary_return", "trafficking", "visas"])
def test_the_situations_with_their_own_topic_also_say_where_to_turn(fact_id):
    facts = load_facts()
    turn_to = {"voluntary_return": "IOM office", "trafficking": "police", "visas": "embassy"}[fact_id]
    assert turn_to in facts.text(fact_id, "short", "en")


# --- Offices named by what they do ------------------------------------------------------------


def function(value):
    return {"entity": "office_function", "value": value}


@pytest.mark.parametrize(
    "value, fact_id",
    [("ddg_operations", "ddg_operations"), ("office_partnerships", "office_partnerships"),
     ("office_strategy", "office_strategy"), ("ddg_management_reform", "ddg_management_reform")],
)
def test_an_office_named_by_what_it_does_answers_with_that_office(value, fact_id):
    messages, slots = run(ActionAnswerFact(), tracker("Qui s'occupe de ça à l'OIM ?", "ask_office", [function(value)]))
    assert slots["topic"] == fact_id


def test_what_an_office_does_never_overrules_the_classifier():
    # "What operations does IOM run?" is about its work; "IOM management structure" its leadership.
    messages, slots = run(ActionAnswerFact(), tracker("what operations does IOM run?", "ask_our_work", [function("ddg_operations")]))
    assert slots["topic"] == "our_work"
    messages, slots = run(ActionAnswerFact(), tracker("IOM management structure", "ask_leadership", [function("ddg_management_reform")]))
    assert slots["topic"] == "leadership"
    messages, slots = run(ActionAnswerFact(), tracker("communication tips", "out_of_scope", [function("office_partnerships")]))
    assert "topic" not in slots


def test_an_office_title_wins_over_a_function_word():
    entities = [function("office_partnerships"), office("chief_of_staff")]
    _, slots = run(ActionAnswerFact(), tracker("chief of staff, communication", "ask_office", entities))
    assert slots["topic"] == "chief_of_staff"


# --- No confident wrong answers ---------------------------------------------------------------


def test_the_fallback_threshold_is_the_one_in_config():
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    fallback = next(c for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    assert understanding.FALLBACK_THRESHOLD == fallback["threshold"]


@pytest.mark.parametrize("text, lang", [("Et le Wakanda ?", "fr"), ("what about Narnia?", "en")])
def test_no_rescue_under_the_fallback_threshold(text, lang):
    t = tracker(text, "inform_country", language=lang)
    t.latest_message["intent_ranking"] = [
        {"name": "inform_country", "confidence": 0.71},
        {"name": "ask_agenda_2030", "confidence": 0.16},
        {"name": "ask_identity", "confidence": 0.10},
    ]
    messages, slots = run(ActionAnswerFact(), t)
    assert slots["topic"] == "member_states" and "https://www.iom.int/member-states" in messages[0]["text"]
    assert "10.7" not in messages[0]["text"] and "1951" not in messages[0]["text"]


@pytest.mark.parametrize(
    "text, intent",
    [("Who is the director general of the WHO?", "ask_office"), ("Où est le siège du HCR ?", "ask_headquarters"),
     ("¿cuál es el presupuesto de ACNUR?", "ask_not_in_facts")],
)
def test_a_question_about_another_organisation_is_off_topic(text, intent):
    entities = [{"entity": "other_organization", "value": "x"}, office("director_general")]
    messages, slots = run(ActionAnswerFact(), tracker(text, intent, entities, language="en"))
    assert "topic" not in slots
    assert "Amy E. Pope" not in messages[0]["text"] and "Genève" not in messages[0]["text"]


def test_naming_iom_with_another_organisation_keeps_the_iom_topic():
    entities = [{"entity": "other_organization", "value": "UNHCR"}]
    _, slots = run(ActionAnswerFact(), tracker("are IOM and UNHCR both UN agencies?", "ask_un_system", entities))
    assert slots["topic"] == "un_system"


def test_a_question_about_iom_with_no_fact_says_so_and_where_to_look():
    t = tracker("What is IOM's annual budget?", "ask_not_in_facts", language="en")
    t.latest_message["intent_ranking"] = [
        {"name": "ask_not_in_facts", "confidence": 0.7},
        {"name": "ask_partnerships", "confidence": 0.2},
        {"name": "ask_identity", "confidence": 0.05},
    ]
    messages, slots = run(ActionAnswerFact(), t)
    assert messages[0]["text"].startswith("I don't have that figure") and "https://www.iom.int" in messages[0]["text"]
    assert "topic" not in slots  # no fact was given
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[0] == "/ask_partnerships" and "/ask_identity" in payloads  # padded with a starter topic


# --- When unsure, suggest ---------------------------------------------------------------------


def fallback_tracker(ranking, entities=()):
    t = tracker("stuff about the thing", "nlu_fallback", entities, language="en")
    t.latest_message["intent"] = {"name": "nlu_fallback", "confidence": 0.25}
    t.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.25}, *ranking]
    return t


def test_not_understood_offers_the_topics_ranked_highest():
    ranking = [
        {"name": "ask_careers", "confidence": 0.22},
        {"name": "out_of_scope", "confidence": 0.2},
        {"name": "ask_voluntary_return", "confidence": 0.15},
        {"name": "ask_office", "confidence": 0.1},
        {"name": "ask_visas", "confidence": understanding.SUGGESTION_FLOOR / 2},
    ]
    messages, slots = run(ActionAnswerFact(), fallback_tracker(ranking, [function("office_strategy")]))
    assert messages[0]["text"].startswith("Sorry, I'm not sure I understood")
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        "/ask_careers", "/ask_voluntary_return", '/ask_office{"office":"office_strategy"}'
    ]
    assert "topic" not in slots


def test_not_understood_without_a_likely_topic_offers_the_starter_topics():
    ranking = [{"name": "out_of_scope", "confidence": 0.2}, {"name": "ask_visas", "confidence": 0.05}]
    messages, _ = run(ActionAnswerFact(), fallback_tracker(ranking))
    assert messages[0]["text"].startswith("Sorry, I didn't understand")
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_identity", "/ask_leadership", "/ask_member_states"]


def test_one_likely_topic_is_offered_with_a_starter_topic():
    ranking = [{"name": "inform_country", "confidence": 0.2}, {"name": "greet", "confidence": 0.2}]
    messages, _ = run(ActionAnswerFact(), fallback_tracker(ranking))
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_member_states", "/ask_identity"]


# --- Spanish ------------------------------------------------------------------------------


def test_spanish_question_gets_spanish_answer_source_and_buttons():
    messages, slots = run(ActionAnswerFact(), tracker("que es la oim", "ask_identity"))
    text = messages[0]["text"]
    assert "Organización Internacional para las Migraciones" in text
    assert "(cifras de 2025)" in text
    assert text.endswith("\n\nFuente (información de 2025): https://www.iom.int/es/quienes-somos")
    assert slots["language"] == "es" and slots["topic"] == "identity"
    assert {"title": "Su historia", "payload": "/ask_history"} in messages[0]["buttons"]


def test_spanish_follow_ups_on_the_current_topic():
    more, _ = run(ActionAnswerFact(), tracker("cuéntame más", "ask_more", topic="director_general", language="fr"))
    assert "António Vitorino (2018-2023)" in more[0]["text"] and "mayo de 2023" in more[0]["text"]
    source, _ = run(ActionAnswerFact(), tracker("¿fuente?", "ask_source", topic="identity", language="es"))
    assert source[0]["text"] == (
        "Fuentes (información de 2025):\n"
        "https://www.iom.int/es/quienes-somos\n"
        "https://www.iom.int/member-states\n"
        "https://emergencymanual.iom.int/about-iom"
    )
    since, slots = run(ActionAnswerFact(), tracker("¿desde cuándo?", "ask_since_when", topic="global_compact", language="es"))
    assert since[0]["text"].startswith("Desde el 10 de diciembre de 2018")
    assert slots["topic"] == "global_compact"


def test_spanish_deputies_and_offices():
    messages, slots = run(
        ActionAnswerFact(), tracker("¿y el adjunto?", "ask_office", [office("ddg")], topic="director_general", language="es")
    )
    assert messages[0]["text"].startswith("La OIM tiene dos puestos de Director General Adjunto (estructura que presentaba en 2025).")
    assert "Ugochi Daniels" in messages[0]["text"] and slots["language"] == "es"
    messages, slots = run(
        ActionAnswerFact(), tracker("quien es el jefe de gabinete", "ask_office", [office("chief_of_staff")])
    )
    assert "Oficina del Jefe de Gabinete" in messages[0]["text"] and "no tengo una fuente confirmada" in messages[0]["text"].lower()


def test_spanish_membership_answer_names_the_country_in_spanish():
    messages, slots = run(ActionAnswerFact(), tracker("¿es España miembro de la OIM?", "ask_member_states", [country("ES")]))
    assert messages[0]["text"].startswith("España: sí, es un Estado Miembro de la OIM")
    assert "Fuente: una página de un gobierno o de las Naciones Unidas, sin fecha: https://exteriores.gob.es/" in messages[0]["text"]
    assert messages[0]["text"].endswith("\nLista oficial de Estados Miembros: https://www.iom.int/member-states")
    messages, slots = run(ActionAnswerFact(), tracker("¿y China es miembro de la OIM?", "ask_member_states", [country("CN")]))
    assert messages[0]["text"].startswith("China: sí, es un Estado Miembro de la OIM") and "desde 2016" in messages[0]["text"]
    assert slots["country"] == "CN" and slots["language"] == "es"


@pytest.mark.parametrize("intent", ["greet", "goodbye", "thanks", "bot_challenge", "help", "out_of_scope"])
def test_spanish_small_talk(intent):
    messages, slots = run(ActionAnswerFact(), tracker("hola que tal, gracias", intent, language="fr"))
    assert messages[0]["text"] == facts_file.message(intent, "es")
    assert slots["language"] == "es" and "topic" not in slots


def test_telegram_spanish_language_code_sets_the_first_language_of_a_button():
    messages, slots = run(ActionAnswerFact(), tracker("/ask_headquarters", "ask_headquarters", metadata={"language": "es"}))
    assert "Ginebra, Suiza" in messages[0]["text"] and slots["language"] == "es"


def test_spanish_since_when_without_a_date_points_to_the_spanish_page():
    messages, _ = run(ActionAnswerFact(), tracker("¿desde cuándo?", "ask_since_when", topic="our_work", language="es"))
    assert messages[0]["text"] == (
        "No tengo una fecha con fuente para eso. Vea la página oficial: https://www.iom.int/es/quienes-somos"
    )
