"""Country names in French and English map to one ISO code; nothing else is taken for a country."""

import pytest

from components.countries import find_countries


@pytest.mark.parametrize(
    "text, codes",
    [
        ("Is France a member?", ["FR"]),
        ("la france est membre ?", ["FR"]),
        ("et l'Algérie ?", ["DZ"]),
        ("et l'algerie", ["DZ"]),
        ("Guinée-Bissau", ["GW"]),
        ("is the USA a member", ["US"]),
        ("Les États-Unis sont membres ?", ["US"]),
        ("Russian Federation", ["RU"]),
        ("la Fédération de Russie", ["RU"]),
        ("Royaume-Uni", ["GB"]),
        ("Côte d’Ivoire", ["CI"]),
        ("et le Niger et le Nigeria ?", ["NE", "NG"]),
        ("Allemagne ou Germany", ["DE", "DE"]),
    ],
)
def test_country_names_map_to_iso_codes(text, codes):
    assert [c["value"] for c in find_countries(text)] == codes


@pytest.mark.parametrize("text", ["tell us about IOM", "Wakanda", "OIM", "Who is the DG?", "", "<script>alert(1)</script>"])
def test_no_false_countries(text):
    assert find_countries(text) == []


def test_spans_point_at_the_original_text():
    text = "Et la Côte d'Ivoire, elle est membre ?"
    (found,) = find_countries(text)
    assert text[found["start"] : found["end"]] == "Côte d'Ivoire"


# --- Names people type, in French, English and Spanish ------------------------------------------

@pytest.mark.parametrize(
    "text, codes",
    [
        # short forms
        ("is the UK a member?", ["GB"]),
        ("is the uk a member", ["GB"]),
        ("les usa sont membres ?", ["US"]),
        ("¿EE. UU. es miembro?", ["US"]),
        ("eeuu es miembro de la oim", ["US"]),
        ("Estados Unidos", ["US"]),
        ("la Russie", ["RU"]),
        ("Rusia", ["RU"]),
        ("Reino Unido", ["GB"]),
        ("Ivory Coast", ["CI"]),
        ("Costa de Marfil", ["CI"]),
        ("cote divoire", ["CI"]),
        ("le Vatican", ["VA"]),
        ("le Saint-Siège", ["VA"]),
        ("la Santa Sede", ["VA"]),
        ("the Holy See", ["VA"]),
        ("Türkiye", ["TR"]),
        ("Turkiye", ["TR"]),
        ("la Turquie", ["TR"]),
        ("Turquía", ["TR"]),
        ("turquia", ["TR"]),
        ("Países Bajos", ["NL"]),
        ("Birmania", ["MM"]),
        ("Arabia Saudita", ["SA"]),
        ("Arabia Saudí", ["SA"]),
        ("Sverige", ["SE"]),
        ("Suecia", ["SE"]),
        ("Japón", ["JP"]),
        ("japon", ["JP"]),
        # the two Congos, in every language
        ("Is DR Congo a member?", ["CD"]),
        ("is the DRC a member", ["CD"]),
        ("la RDC est membre ?", ["CD"]),
        ("la rdc est membre", ["CD"]),
        ("la RD Congo", ["CD"]),
        ("le Congo-Kinshasa", ["CD"]),
        ("Congo Kinshasa", ["CD"]),
        ("la République démocratique du Congo", ["CD"]),
        ("the Democratic Republic of the Congo", ["CD"]),
        ("Democratic Republic of Congo", ["CD"]),
        ("República Democrática del Congo", ["CD"]),
        ("la RD del Congo", ["CD"]),
        ("Congo RDC", ["CD"]),
        ("le Congo-Brazzaville", ["CG"]),
        ("Congo Brazzaville", ["CG"]),
        ("la République du Congo", ["CG"]),
        ("the Republic of the Congo", ["CG"]),
        ("República del Congo", ["CG"]),
        ("le Congo est membre ?", ["CG", "CD"]),  # a bare "Congo": both are answered
        # names written as the IOM list writes them
        ("Commonwealth of the Bahamas", ["BS"]),
        ("Republic of Korea", ["KR"]),
        ("Islamic Republic of Iran", ["IR"]),
        ("Lao People’s Democratic Republic", ["LA"]),
        ("Micronesia (Federated States of)", ["FM"]),
        ("Bolivia (Plurinational State of)", ["BO"]),
        ("България (Bulgaria)", ["BG", "BG"]),
    ],
)
def test_names_people_type(text, codes):
    assert [c["value"] for c in find_countries(text)] == codes


def test_every_state_of_the_list_is_recognised_by_its_listed_name_and_by_its_cldr_names():
    from babel import Locale

    from actions.facts import load_states

    for row in load_states().rows.values():
        assert row.code in [c["value"] for c in find_countries(row.name_en)], row.name_en
        for lang in ("fr", "en", "es"):
            # with a membership word: "Grenade"/"Granada" alone is a fruit or a Spanish city
            name = Locale(lang).territories[row.code]
            found = [c["value"] for c in find_countries(f"{name} : membre de l'OIM ?")]
            assert found in ([row.code], ["CG", "CD"]), (lang, name)


# --- Ambiguous names, both sides ----------------------------------------------------------------

@pytest.mark.parametrize(
    "text, codes",
    [
        # guinea pig / Guinea
        ("tell me about guinea pigs", []),
        ("my guinea pig is sick", []),
        ("is Guinea a member?", ["GN"]),
        ("and guinea?", ["GN"]),
        ("Papua New Guinea", ["PG"]),
        ("New Guinea is an island", []),
        ("la Nouvelle-Guinée", []),
        ("mon cochon d'Inde", []),
        ("l'Inde est membre ?", ["IN"]),
        # réunion (a meeting) / La Réunion
        ("prochaine réunion ?", []),
        ("la réunion de demain", []),
        ("Je vais à la réunion demain", []),
        ("Réunion demain à 10 h ?", []),
        ("Je vais à la Réunion demain", ["RE"]),
        ("La Réunion est-elle membre de l'OIM ?", ["RE"]),
        ("l'île de la Réunion", ["RE"]),
        ("l'ile de la reunion", ["RE"]),
        ("Is Réunion a member?", ["RE"]),
        ("we had a family reunion", []),
        ("¿cuándo es la próxima reunión?", []),
        # turkey (a bird) / Turkey
        ("turkey recipe", []),
        ("how long do I roast a turkey", []),
        ("turkey sandwich please", []),
        ("is Turkey a member", ["TR"]),
        ("is turkey a member of iom", ["TR"]),
        ("and turkey?", ["TR"]),
        # Chad (a name) / Chad
        ("hi I'm Chad", []),
        ("my name is Chad, who runs IOM?", []),
        ("Chad here, quick question", []),
        ("is Chad a member?", ["TD"]),
        ("what about chad?", ["TD"]),
        ("who is Michael Jordan?", []),
        ("Jordan Peterson said", []),
        ("is Jordan a member?", ["JO"]),
        ("je m'appelle Maurice", []),
        ("l'île Maurice est membre ?", ["MU"]),
        ("Maurice est membre de l'OIM ?", ["MU"]),
        ("me llamo Mauricio", []),
        # Georgia (a US state) / Georgia
        ("I live in Atlanta, Georgia", []),
        ("Georgia Tech", []),
        ("is georgia a member", ["GE"]),
        ("la Géorgie est membre ?", ["GE"]),
        ("South Georgia", ["GS"]),
        # Niger and Congo (rivers) / the countries
        ("the Niger river", []),
        ("le fleuve Niger", []),
        ("el río Níger", []),
        ("le delta du Niger", []),
        ("is niger a member", ["NE"]),
        ("le Niger et le Nigeria", ["NE", "NG"]),
        ("le fleuve Congo", []),
        # Spanish common words / countries
        ("una cuba de vino", []),
        ("¿Cuba es miembro?", ["CU"]),
        ("cerveza de malta", []),
        ("¿Malta es miembro?", ["MT"]),
        ("salsa de chile", []),
        ("¿Chile es miembro?", ["CL"]),
        ("un chili con carne", []),
        ("le Chili est membre ?", ["CL"]),
        ("voy a Granada de vacaciones", []),
        ("¿Granada es miembro de la OIM?", ["GD"]),
        ("la OIM usa datos", []),
        ("¿qué usa la OIM?", []),
        ("USA", ["US"]),
        # French common words / countries
        ("c'est bénin", []),
        ("le Bénin est membre ?", ["BJ"]),
        ("une veste en suède", []),
        ("la Suède est membre ?", ["SE"]),
        ("le bureau est au rdc", []),
        # regions, continents, US states: no country
        ("New Mexico", []),
        ("le Nouveau-Mexique", []),
        ("New Jersey", []),
        ("en Amérique latine", []),
        ("in Latin America", []),
        ("Northern Ireland", ["GB"]),
        ("l'Irlande du Nord", ["GB"]),
        ("l'Irlande", ["IE"]),
    ],
)
def test_ambiguous_names_are_read_from_context(text, codes):
    assert [c["value"] for c in find_countries(text)] == codes


@pytest.mark.parametrize("text", ["Is the EU a member?", "l'UE est membre ?", "the UN", "ZZ", "001", "419", "Europe", "Afrique", "the World", "EZ"])
def test_regions_are_never_countries(text):
    assert find_countries(text) == []


def test_region_codes_are_not_country_codes():
    from components.countries import is_country_code, is_un_state

    for code in ("EU", "UN", "ZZ", "001", "419", "EZ", "QO", "XK", "", None, "fr"):
        assert not is_country_code(code)
    assert is_country_code("RE") and not is_un_state("RE")
    assert is_un_state("VA") and is_un_state("PS") and not is_un_state("TW")


def test_states_are_the_un_member_and_observer_states_and_the_list_is_among_them():
    import pycountry

    from actions.facts import load_states
    from components.countries import NOT_UN_STATES, is_un_state

    states = {c.alpha_2 for c in pycountry.countries if is_un_state(c.alpha_2)}
    assert len(states) == 195 and NOT_UN_STATES <= {c.alpha_2 for c in pycountry.countries}
    outside = set(load_states().rows) - states
    assert outside == {"CK"}  # Cook Islands: an IOM member, not a UN member


def test_the_lookup_table_is_in_step_with_the_extractor():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, str(root / "scripts" / "country_lookup.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
