"""Membership and presence answers from the states list (facts/states.tsv), in French, English and
Spanish, for countries typed the ways people type them.

Spanish is tested on the texts (membership_text, presence_text, since_text...): whole Spanish
replies also need the Spanish topic titles of the buttons, which the Spanish work adds.
"""

import re

import pytest

from actions.answers import answer, country_reply, follow_up_reply
from actions.membership import (
    country_name,
    membership_text,
    newest_members_text,
    observer_list_text,
    presence_text,
    since_text,
)
from actions.facts import load_facts
from components.countries import find_countries

FACTS = load_facts()
OFFICIAL = "https://www.iom.int/member-states"
OFFICES = "https://www.iom.int/country-offices"
WIKIPEDIA = "https://en.wikipedia.org/wiki/International_Organization_for_Migration"
# How each language says "yes, a Member State" / "an Observer State", and flat denials never said.
MEMBER = {"fr": "oui, c'est un État membre", "en": "yes, it is a Member State", "es": "sí, es un Estado Miembro"}
OBSERVER = {"fr": "États observateurs", "en": "Observer States", "es": "Estados Observadores"}
NOT_LISTED = {"fr": "ne figure pas parmi", "en": "does not appear among", "es": "no figura entre"}
DENIALS = ("not a member.", "is not a member", "n'est pas membre", "no es miembro")


def codes(text):
    return [found["value"] for found in find_countries(text)]


def entities(text):
    """The `country` entities the NLU gives for `text` (components/country_extractor.py)."""
    return [{"entity": "country", "value": code} for code in codes(text)]


@pytest.mark.parametrize(
    "lang, text, code, name",
    [
        ("fr", "le senegal est membre de l'oim ?", "SN", "Sénégal"),
        ("fr", "la rdc est membre ?", "CD", "République démocratique du Congo (Congo-Kinshasa)"),
        ("fr", "le Congo-Brazzaville est membre ?", "CG", "République du Congo (Congo-Brazzaville)"),
        ("fr", "le vatican est membre ?", "VA", "Saint-Siège"),
        ("fr", "la suede est membre ?", "SE", "Suède"),
        ("fr", "la bulgarie ?", "BG", "Bulgarie"),
        ("en", "is japan a member", "JP", "Japan"),
        ("en", "is DR Congo a member?", "CD", "Democratic Republic of the Congo (Congo-Kinshasa)"),
        ("en", "is the uk a member", "GB", "United Kingdom"),
        ("en", "is the holy see a member?", "VA", "Holy See"),
        ("en", "ivory coast?", "CI", "Côte d’Ivoire"),
        ("en", "is turkey a member of iom", "TR", "Türkiye"),
        ("es", "¿senegal es miembro de la oim?", "SN", "Senegal"),
        ("es", "¿la RD Congo es miembro?", "CD", "República Democrática del Congo (Congo-Kinshasa)"),
        ("es", "¿EE. UU. es miembro?", "US", "Estados Unidos"),
        ("es", "¿la Santa Sede es miembro?", "VA", "Santa Sede"),
        ("es", "turquia es miembro?", "TR", "Turquía"),
        ("es", "¿Suecia es miembro?", "SE", "Suecia"),
    ],
)
def test_member_states_are_confirmed_with_their_source(lang, text, code, name):
    assert codes(text) == [code]
    reply = membership_text(FACTS, code, lang)
    row = FACTS.state(code)
    assert reply.startswith(name) and MEMBER[lang] in reply and "175" in reply
    assert row.source_url in reply
    assert not any(denial in reply.lower() for denial in DENIALS)
    if row.evidence == "encyclopedia":
        assert OFFICIAL in reply  # rests on Wikipedia alone: the official list to be sure


@pytest.mark.parametrize("lang", ["fr", "en", "es"])
def test_a_year_of_joining_is_given_where_the_source_gives_one_and_the_page_date(lang):
    japan = membership_text(FACTS, "JP", lang)
    assert "1993" in japan and {"fr": "juin 2001", "en": "June 2001", "es": "junio de 2001"}[lang] in japan
    france = membership_text(FACTS, "FR", lang)
    assert "1951" in france and "1966" in france and "1981" in france and "1992" in france
    undated = {"fr": "une page de l'OIM, sans date : https://france.iom.int/fr", "en": "an IOM page, undated: https://france.iom.int/fr",
               "es": "una página de la OIM, sin fecha: https://france.iom.int/fr"}
    assert undated[lang] in france  # the row's as_of is empty: said, never invented
    russia = membership_text(FACTS, "RU", lang)
    assert "2020" in russia and "2021" in russia and "https://tass.com/politics/1280031" in russia


@pytest.mark.parametrize("lang, text", [("fr", "l'arabie saoudite est membre ?"), ("en", "is saudi arabia a member"),
                                        ("es", "¿Arabia Saudita es miembro?"), ("en", "kuwait?"),
                                        ("fr", "le Qatar est membre ?"), ("es", "¿San Marino es miembro?")])
def test_observer_states_are_not_called_members(lang, text):
    (code,) = codes(text)
    reply = membership_text(FACTS, code, lang)
    assert OBSERVER[lang] in reply and " 8 " in reply
    assert MEMBER[lang] not in reply
    meaning = {"fr": "Un État observateur n'est pas membre de l'Organisation.", "en": "An Observer State is not a member of the Organization.",
               "es": "Un Estado Observador no es miembro de la Organización."}
    assert meaning[lang] in reply  # what the status means, in one sentence
    # Nothing the sources do not say about observers (Council sessions, votes).
    assert not any(word in reply for word in ("Council", "Conseil", "Consejo", "vote", "voto"))
    if code == "KW":
        assert "2017" in reply and "https://rocairo.iom.int/country-offices" in reply


@pytest.mark.parametrize("lang, text, name", [("fr", "le liban est membre ?", "Liban"), ("en", "is Lebanon a member?", "Lebanon"),
                                              ("es", "libano es miembro de la oim?", "Líbano"), ("en", "is syria a member", "Syria"),
                                              ("fr", "la Palestine est membre ?", "Palestine")])
def test_a_state_not_on_the_list_is_never_flatly_denied(lang, text, name):
    (code,) = codes(text)
    reply = membership_text(FACTS, code, lang)
    assert reply.startswith(name) and NOT_LISTED[lang] in reply
    assert "175" in reply and "8" in reply and "2023" in reply and OFFICIAL in reply
    assert not any(denial in reply.lower() for denial in DENIALS)


@pytest.mark.parametrize("lang, text", [("fr", "La Réunion est-elle membre de l'OIM ?"), ("en", "is Taiwan a member?"),
                                        ("es", "¿la isla de la Reunión es miembro?"), ("fr", "la Guadeloupe est membre ?")])
def test_a_territory_is_said_not_to_be_a_state_on_the_list(lang, text):
    (code,) = codes(text)
    reply = membership_text(FACTS, code, lang)
    un = {"fr": "ni un État membre ni un État observateur de l'ONU", "en": "not a member or observer state of the United Nations",
          "es": "no es Estado miembro ni observador de las Naciones Unidas"}
    assert un[lang] in reply and "2023" in reply and OFFICIAL in reply


@pytest.mark.parametrize("value", ["EU", "UN", "ZZ", "001", "419", "XK", "eu", None])
def test_region_codes_are_never_answered_as_countries(value):
    assert country_name(value, "en", FACTS) is None
    reply = country_reply(FACTS, [value], "en")
    assert reply.country is None and "didn't recognise a country" in reply.text
    reply = answer(FACTS, "ask_member_states", [{"entity": "country", "value": value}], "fr")
    assert reply.country is None and reply.topic == "member_states" and OFFICIAL in reply.text


def test_a_bare_congo_answers_for_both_congos():
    reply = answer(FACTS, "ask_member_states", entities("le congo est membre ?"), "fr")
    assert "Congo-Brazzaville" in reply.text and "Congo-Kinshasa" in reply.text
    assert reply.topic == "member_states" and reply.country == "CG"


def test_two_countries_named_get_two_answers():
    reply = answer(FACTS, "ask_member_states", entities("le Niger et le Nigeria sont membres ?"), "fr")
    assert "Niger :" in reply.text and "Nigeria :" in reply.text and reply.country == "NE"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_membership_replies_set_the_contract_slots(lang):
    reply = answer(FACTS, "ask_member_states", entities("Sénégal"), lang)
    assert (reply.topic, reply.country) == ("member_states", "SN")
    assert [b["payload"] for b in reply.buttons] == ["/ask_member_states", "/ask_presence"]


# --- Follow-ups on the country --------------------------------------------------------------------

@pytest.mark.parametrize("topic", ["member_states", "presence"])
def test_since_when_and_source_follow_up_on_the_country(topic):
    since = follow_up_reply(FACTS, "ask_since_when", topic, "JP", "en")
    assert "Japan" in since.text and "1993" in since.text and (since.topic, since.country) == (topic, "JP")
    source = follow_up_reply(FACTS, "ask_source", topic, "JP", "fr")
    assert "lawsdocbox.com" in source.text and "juin 2001" in source.text
    assert (source.topic, source.country) == (topic, "JP")


@pytest.mark.parametrize("lang", ["fr", "en", "es"])
def test_since_when_says_when_the_list_gives_no_year(lang):
    text = since_text(FACTS, "SN", lang)
    assert text.startswith("Sénégal" if lang == "fr" else "Senegal") and OFFICIAL in text
    assert not any(ch.isdigit() for ch in text.replace(OFFICIAL, ""))  # no invented year
    assert "1951" in since_text(FACTS, "FR", lang) and "1992" in since_text(FACTS, "FR", lang)
    assert OFFICIAL in since_text(FACTS, "LB", lang)


def test_source_of_a_country_not_on_the_list_is_the_list_itself():
    reply = follow_up_reply(FACTS, "ask_source", "member_states", "LB", "en")
    assert "my list of IOM's Member and Observer States" in reply.text and OFFICIAL in reply.text


# --- The list as a whole -------------------------------------------------------------------------

@pytest.mark.parametrize("lang, names", [
    ("fr", ["Arabie saoudite", "Bahreïn", "Bhoutan", "Indonésie", "Koweït", "Malaisie", "Qatar", "Saint-Marin"]),
    ("en", ["Bahrain", "Bhutan", "Indonesia", "Kuwait", "Malaysia", "Qatar", "San Marino", "Saudi Arabia"]),
    ("es", ["Arabia Saudí", "Baréin", "Bután", "Catar", "Indonesia", "Kuwait", "Malasia", "San Marino"]),
])
def test_the_observer_states_are_listed_in_the_reply_language(lang, names):
    text = observer_list_text(FACTS, lang)
    assert ", ".join(names) in text and WIKIPEDIA in text and OFFICIAL in text


@pytest.mark.parametrize("lang, first", [("fr", "Russie (2021), Ouzbékistan (2018)"), ("en", "Russia (2021), Uzbekistan (2018)"),
                                         ("es", "Rusia (2021), Uzbekistán (2018)")])
def test_newest_members_say_they_are_among_the_states_whose_year_is_known(lang, first):
    text = newest_members_text(FACTS, lang)
    known = sum(1 for row in FACTS.states.members if row.since)
    assert first in text and f"{known} " in text and "175" in text and OFFICIAL in text
    assert "https://tass.com/politics/1280031" in text


def test_observer_and_newest_questions_reach_their_answers():
    observers = answer(FACTS, "ask_observer_states", [], "en")
    assert "Saudi Arabia" in observers.text and observers.topic == "member_states" and observers.country is None
    newest = answer(FACTS, "ask_newest_members", [], "fr")
    assert "Russie (2021)" in newest.text and newest.topic == "member_states"
    # "Is Qatar an observer?" classified as the list question still answers about Qatar.
    qatar = answer(FACTS, "ask_observer_states", entities("is Qatar an observer?"), "en")
    assert qatar.country == "QA" and qatar.text.startswith("Qatar")


# --- IOM in a country ----------------------------------------------------------------------------

@pytest.mark.parametrize("lang, text, code, site", [
    ("en", "IOM in Senegal?", "SN", None),
    ("fr", "où trouver l'OIM au Sénégal", "SN", None),
    ("fr", "bureau de l'oim en autriche", "AT", "https://austria.iom.int"),
    ("en", "office of IOM in Peru", "PE", None),
    ("en", "IOM in Argentina", "AR", "https://argentina.iom.int"),
    ("es", "oficina de la OIM en Bulgaria", "BG", "https://bulgaria.iom.int"),
    ("es", "¿dónde está la OIM en Perú?", "PE", None),
])
def test_iom_in_a_country_points_to_its_office_and_says_its_status(lang, text, code, site):
    assert codes(text) == [code]
    reply = presence_text(FACTS, code, lang)
    assert OFFICES in reply and MEMBER[lang] in reply and FACTS.state(code).source_url in reply
    if site:
        assert site in reply
    else:
        # no invented country site (www.iom.int pages and the row's own source aside)
        assert not re.search(r"https://(?!www\.)[a-z-]+\.iom\.int", reply.replace(FACTS.state(code).source_url, ""))


def test_presence_questions_set_topic_presence_and_the_country():
    reply = answer(FACTS, "ask_presence", entities("IOM in Senegal?"), "en")
    assert (reply.topic, reply.country) == ("presence", "SN") and OFFICES in reply.text
    # "and in Mali?" after it stays on presence
    mali = answer(FACTS, "inform_country", entities("and Mali?"), "en", topic="presence", country="SN")
    assert (mali.topic, mali.country) == ("presence", "ML") and OFFICES in mali.text
    # without a country, ask_presence is the general answer
    general = answer(FACTS, "ask_presence", [], "en")
    assert general.topic == "presence" and general.country is None and "171" in general.text


def test_presence_in_a_country_not_on_the_list_still_points_to_the_offices_page():
    reply = answer(FACTS, "ask_presence", entities("IOM in Lebanon?"), "en")
    assert OFFICES in reply.text and NOT_LISTED["en"] in reply.text and reply.country == "LB"


# --- Each state's source said for what it is (the `evidence` column of facts/states.tsv) -----------

LAWSDOCBOX = ("http://lawsdocbox.com/Immigration/83502318-Mc-2043-original-english-29-june-2001-eighty-second-"
              "session-report-on-the-ninety-eighth-session-of-the-executive-committee.html")


@pytest.mark.parametrize("code, lang, line", [
    # An IOM page (iom.int, or one of IOM's own sites listed in the facts file).
    ("AF", "en", "Source: an IOM page, August 2024: https://iom.int/eligible-member-states-line-2"),
    ("AU", "en", "Source: an IOM page, undated: https://iomaustralia.org/about-us.html"),
    ("FR", "fr", "Source : une page de l'OIM, sans date : https://france.iom.int/fr"),
    # A government or UN page.
    ("CH", "en", "Source: a government or United Nations page, August 2021: "
                 "https://www.nkvf.admin.ch/sem/en/home/international-rueckkehr/ch-migrationsaussenpolitik/partner/iom.html"),
    ("IR", "es", "Fuente: una página de un gobierno o de las Naciones Unidas, 2015: "
                 "https://iran.un.org/en/47269-iom-islamic-republic-iran-factsheet"),
    # A news site: reported by it, with its date.
    ("RU", "en", "Reported by tass.com, April 2021: https://tass.com/politics/1280031"),
    ("RU", "fr", "Selon tass.com, avril 2021 : https://tass.com/politics/1280031"),
    ("AG", "es", "Según brecorder.com, diciembre de 2011: https://brecorder.com/news/amp/3935788"),
    ("NL", "en", "Reported by diplomatmagazine.eu, April 2022: https://diplomatmagazine.eu/2022/04/03/iom-70th-anniversary/"),
    # An IOM document copied by another site: reported by that site, not shown as IOM's own page.
    ("JP", "en", f"Reported by lawsdocbox.com, June 2001, which reproduces an IOM document: {LAWSDOCBOX}"),
    ("BE", "fr", f"Selon lawsdocbox.com, juin 2001, qui reproduit un document de l'OIM : {LAWSDOCBOX}"),
    # The English Wikipedia article.
    ("SN", "en", "Source: the English Wikipedia article on IOM, 2023: " + WIKIPEDIA),
])
def test_each_source_is_shown_for_what_it_is_with_the_official_list(code, lang, line):
    reply = membership_text(FACTS, code, lang)
    assert line in reply.splitlines()
    official = {"fr": "Liste officielle des États membres : ", "en": "Official list of Member States: ",
                "es": "Lista oficial de Estados Miembros: "}[lang]
    assert reply.endswith("\n" + official + OFFICIAL)  # always, last
    row = FACTS.state(code)
    if row.evidence in ("news",) or "lawsdocbox.com" in row.source_url:
        # Never "Source: <news or copy URL>" as if it were official.
        assert not re.search(r"(Source|Fuente) ?: https?://", reply)


def test_the_observer_and_newest_lists_say_what_each_source_is():
    newest = newest_members_text(FACTS, "en").splitlines()
    assert "Reported by tass.com, April 2021: https://tass.com/politics/1280031" in newest
    assert "Source: an IOM page, August 2024: https://iom.int/eligible-member-states-line-2" in newest
    assert newest[-1] == "Official list of Member States: " + OFFICIAL
    observers = observer_list_text(FACTS, "en").splitlines()
    assert "Source: an IOM page, 2018: https://rocairo.iom.int/country-offices" in observers
    assert "Source: the English Wikipedia article on IOM, 2023: " + WIKIPEDIA in observers
    assert observers[-1] == "Official list of Member States: " + OFFICIAL
