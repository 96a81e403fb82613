"""What the public asks (issue 20), answered by plain functions: a person's own situation (kind
first, then where to turn, the office of a country they name), migration terms, opinions, contact
and the follow-ups on them. Expected texts are read from the facts file or written here."""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAnswerFact
from actions.answers import answer, key_terms_reply, office_lines, opinion_reply, small_talk_reply
from actions.facts import LANGUAGES, load_facts
from actions.understanding import resolve_intent, situation, speaks_of_self, terms
from tests import facts_file

FACTS = load_facts()
COUNTRY_OFFICES = "https://www.iom.int/country-offices"
SLOTS = ("topic", "country", "language", "channel_language", "term", "situation")


def entity(name, value, start=0, end=0):
    return {"entity": name, "value": value, "start": start, "end": end}


def ends_with_source(text, entry, lang):
    """The text ends with the source line (its date written out in full where it has a month)."""
    last = text.rsplit("\n\n", 1)[-1]
    label = {"fr": "Source (", "en": "Source (", "es": "Fuente ("}[lang]
    return last.startswith(label) and entry["as_of"][:4] in last and last.endswith(facts_file.sources(entry, lang)[0])


# Where to turn, per situation and language, written here (not computed by the code under test).
WHERE_TO_TURN = {
    "lost_papers": {"en": "embassy or consulate", "fr": "ambassade ou au consulat", "es": "embajada o al consulado"},
    "stranded": {"en": "assisted voluntary return", "fr": "aide au retour volontaire", "es": "retorno voluntario asistido"},
    "work_abroad": {"en": "official immigration website", "fr": "site officiel d'immigration", "es": "sitio oficial de inmigración"},
    "discrimination": {"en": "https://weareallin.iom.int", "fr": "https://weareallin.iom.int/fr/faqs", "es": "https://weareallin.iom.int"},
    "exploitation": {"en": "national anti-trafficking", "fr": "nationale contre la traite", "es": "línea nacional de ayuda contra la"},
}
# The reply's first words: sympathy, or understanding of the wish to work abroad.
KIND_FIRST = {"en": ("I'm sorry", "I'm very sorry", "Wanting to build"),
              "fr": ("Je suis désolé", "Je suis vraiment désolé", "Vouloir construire"),
              "es": ("Siento mucho", "Querer construir")}


@pytest.mark.parametrize("situation_id", sorted(WHERE_TO_TURN))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_situation_is_answered_kindly_then_says_where_to_turn(situation_id, lang):
    intent = "ask_trafficking" if situation_id == "exploitation" else "ask_personal_help"
    entities = [] if situation_id == "exploitation" else [entity("situation", situation_id)]
    text = {"en": "my boss keeps my passport", "fr": "mon patron garde mon passeport",
            "es": "mi patrón se quedó con mi pasaporte"}[lang]
    reply = answer(FACTS, intent, entities, lang, text=text)
    entry = facts_file.situation(situation_id)
    assert reply.text.startswith(entry["text"][lang])
    assert reply.text.startswith(KIND_FIRST[lang])
    assert WHERE_TO_TURN[situation_id][lang] in reply.text
    assert ends_with_source(reply.text, entry, lang)
    assert reply.topic == entry["topic"] and reply.situation == situation_id
    assert reply.topic == ("trafficking" if situation_id == "exploitation" else "personal_help")
    assert reply.buttons and all(b["payload"].startswith("/ask_") for b in reply.buttons)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_situation_answer_asks_for_personal_data(lang):
    asks = {"en": ("send me your", "your name", "your phone"), "fr": ("envoyez-moi votre", "votre nom"),
            "es": ("envíeme su", "su nombre")}[lang]
    for situation_id in WHERE_TO_TURN:
        text = facts_file.situation(situation_id)["text"][lang].lower()
        assert not any(ask in text for ask in asks), (situation_id, lang)


def test_a_country_named_adds_its_iom_site_or_the_country_offices_page():
    mexico = answer(FACTS, "ask_personal_help", [entity("situation", "lost_papers"), entity("country", "MX")], "es")
    assert "https://mexico.iom.int" in mexico.text and "México" in mexico.text
    assert mexico.country == "MX" and mexico.topic == "personal_help"
    # The office line comes before the source line, which stays last.
    assert mexico.text.index("https://mexico.iom.int") < mexico.text.index("Fuente (")
    libya = answer(FACTS, "ask_personal_help", [entity("situation", "lost_papers"), entity("country", "LY")], "en")
    assert "LY" not in facts_file.data()["country_sites"]
    assert f"(Libya), see the country offices page: {COUNTRY_OFFICES}" in libya.text
    assert libya.country == "LY"
    assert office_lines(FACTS, ["XK_not_a_code"], "en") == ""


def test_personal_help_without_a_situation_is_the_general_answer_with_the_country_office():
    reply = answer(FACTS, "ask_personal_help", [entity("country", "KE")], "fr")
    assert reply.text.startswith(facts_file.text("personal_help", "short", "fr"))
    assert "https://kenya.iom.int" in reply.text and reply.topic == "personal_help"
    assert reply.situation is None


def test_the_first_situation_named_wins():
    found = [entity("situation", "stranded", 20, 27), entity("situation", "lost_papers", 3, 11)]
    assert situation(found) == "lost_papers"
    assert situation([entity("country", "FR")]) is None


@pytest.mark.parametrize(
    "text, personal",
    [
        ("my employer keeps my passport", True),
        ("they force me to work without pay", True),
        ("on m'a pris mes papiers", True),
        ("me obligan a trabajar sin sueldo", True),
        ("what does IOM do against trafficking?", False),
        ("can you tell me how IOM helps trafficking victims?", False),
        ("je voudrais savoir ce que fait l'OIM contre la traite", False),
        ("¿me puedes decir qué hace la OIM contra la trata?", False),
        ("human trafficking in the US", False),
    ],
)
def test_a_message_about_exploitation_in_the_first_person_is_a_situation(text, personal):
    assert speaks_of_self(text) is personal
    reply = answer(FACTS, "ask_trafficking", [], "en", text=text)
    assert (reply.situation == "exploitation") is personal
    assert reply.topic == "trafficking"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_term_is_explained_with_its_own_source(lang):
    reply = key_terms_reply(FACTS, [entity("term", "stateless_person")], "", lang)
    term = facts_file.term("stateless_person")
    assert reply.text.startswith(term["text"][lang]) and ends_with_source(reply.text, term, lang)
    assert reply.topic == "key_terms" and reply.term == "stateless_person"


def test_the_difference_between_two_terms_answers_both_in_the_order_asked():
    named = [entity("term", "migrant_smuggling", 30, 38), entity("term", "trafficking_in_persons", 5, 16)]
    assert terms(named) == ["trafficking_in_persons", "migrant_smuggling"]
    reply = key_terms_reply(FACTS, named, "", "en")
    assert reply.text.startswith("Trafficking in persons:") and "\n\nMigrant smuggling:" in reply.text
    assert reply.term == "trafficking_in_persons"


def test_a_term_the_table_missed_is_found_by_its_name_and_none_gives_the_list():
    reply = key_terms_reply(FACTS, [], "¿qué es la trata de personas?", "es")
    assert reply.term == "trafficking_in_persons" and reply.text.startswith("Trata de personas:")
    overview = key_terms_reply(FACTS, [], "what does that word mean?", "en")
    assert overview.term is None and overview.text.startswith(facts_file.text("key_terms", "short", "en"))


def test_source_after_a_term_or_a_situation_cites_its_own_pages():
    term = answer(FACTS, "ask_source", [], "fr", topic="key_terms", term="migrant")
    assert "https://iom.int/fr/definition-dun-migrant-selon-loim" in term.text and term.term == "migrant"
    stranded = answer(FACTS, "ask_source", [], "es", topic="personal_help", situation_id="stranded")
    assert "https://www.iom.int/es/el-retorno-y-la-reintegracion" in stranded.text
    assert stranded.situation == "stranded"
    # A situation slot left from another topic is not used.
    other = answer(FACTS, "ask_source", [], "en", topic="careers", situation_id="stranded")
    assert "https://www.iom.int/careers" in other.text and other.situation is None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_opinion_is_declined_politely_with_what_can_be_told(lang):
    reply = small_talk_reply(FACTS, "ask_opinion", lang)
    assert reply == opinion_reply(FACTS, lang)
    assert reply.text == facts_file.message("opinion", lang) and reply.topic is None
    assert [b["payload"] for b in reply.buttons] == ["/ask_xenophobia", "/ask_global_compact", "/ask_our_work"]
    assert reply.text != facts_file.message("out_of_scope", lang)


def test_contact_and_voluntary_return_add_the_office_of_the_country_named():
    contact = answer(FACTS, "ask_contact", [entity("country", "KE")], "en")
    assert contact.topic == "contact" and contact.country == "KE"
    assert "https://kenya.iom.int" in contact.text and COUNTRY_OFFICES in contact.text
    back = answer(FACTS, "ask_voluntary_return", [entity("country", "LY")], "fr")
    assert back.topic == "voluntary_return" and "(Libye)" in back.text and COUNTRY_OFFICES in back.text


def test_iom_named_is_never_told_only_iom_questions_are_answered():
    assert resolve_intent("out_of_scope", [], [], "what does IOM think of football?") == "nlu_fallback"
    assert resolve_intent("out_of_scope", [], [], "tell me a joke") == "out_of_scope"
    # Naming another organisation beside IOM: off-topic stays off-topic only without IOM named.
    unhcr = [entity("other_organization", "UNHCR")]
    assert resolve_intent("out_of_scope", unhcr, [], "who heads UNHCR?") == "out_of_scope"


@pytest.mark.parametrize("intent", ["ask_asylum", "ask_key_terms", "ask_personal_help", "ask_travel_loans"])
def test_naming_another_organisation_keeps_these_topics(intent):
    unhcr = [entity("other_organization", "UNHCR")]
    assert resolve_intent(intent, unhcr, [], "what does UNHCR do for asylum seekers?") == intent
    assert resolve_intent("ask_headquarters", unhcr, [], "where is UNHCR based?") == "out_of_scope"


def _tracker(text, intent, entities=(), **slots):
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": list(entities), "metadata": {}}
    return Tracker("user", {name: slots.get(name) for name in SLOTS}, latest, [], False, None, {}, "action_listen")


def _run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_the_action_sets_the_term_and_situation_slots_and_clears_them_on_another_topic():
    _, slots = _run(ActionAnswerFact(), _tracker("what is a refugee?", "ask_key_terms", [entity("term", "refugee")]))
    assert slots["topic"] == "key_terms" and slots["term"] == "refugee" and slots["situation"] is None
    _, slots = _run(ActionAnswerFact(), _tracker(
        "I lost my passport in Libya", "ask_personal_help",
        [entity("situation", "lost_papers"), entity("country", "LY")], term="refugee"))
    assert slots == {"language": "en", "topic": "personal_help", "country": "LY", "term": None,
                     "situation": "lost_papers"}
    messages, slots = _run(ActionAnswerFact(), _tracker(
        "what do you think of Europe's migration policies?", "ask_opinion", topic="careers"))
    assert messages[0]["text"] == facts_file.message("opinion", "en") and "topic" not in slots


def test_who_heads_iom_in_a_country_is_about_iom_there():
    kenya = [entity("country", "KE")]
    assert resolve_intent("ask_office", kenya, [], "Who is the head of IOM in Kenya?") == "ask_presence"
    assert resolve_intent("ask_leadership", kenya, [], "how is IOM led in Kenya?") == "ask_presence"
    text = "Who is the head of IOM in Kenya?"
    head = [entity("office", "director_general", 11, 22), entity("country", "KE", 26, 31)]
    assert resolve_intent("ask_office", head, [], text) == "ask_presence"
    # A named office stays that office, a country named or not.
    dg = [entity("office", "director_general"), entity("country", "US")]
    assert resolve_intent("ask_office", dg, [], "is the Director General from the US?") == "ask_office"
    assert resolve_intent("ask_office", [], [], "who runs IOM?") == "ask_office"


def test_with_no_country_named_a_reply_that_sends_to_the_office_links_the_country_offices_page():
    for situation_id in ("lost_papers", "stranded", "discrimination", "exploitation"):
        for lang in LANGUAGES:
            reply = answer(FACTS, "ask_trafficking" if situation_id == "exploitation" else "ask_personal_help",
                           [entity("situation", situation_id)], lang, text="my boss keeps my passport")
            assert COUNTRY_OFFICES in reply.text.rsplit("\n\n", 1)[0], (situation_id, lang)
            assert reply.country is None
    # Work abroad sends to the destination's official channels, not an IOM office.
    work = answer(FACTS, "ask_personal_help", [entity("situation", "work_abroad")], "en")
    assert COUNTRY_OFFICES not in work.text
