"""Country names in French and English map to one ISO code; nothing else is taken for a country."""

import pytest

from components.country_extractor import find_countries


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
