"""privacy.redact: personal data out, questions intact (table tests, no server)."""

from __future__ import annotations

import time

import pytest

from privacy.redact import EMAIL, NAME, NUMBER, PHONE, redact, redact_data, redact_message

# (message, what it must become): phone numbers as people write them in French, English and
# Spanish, from several countries.
PHONES = [
    # France, Belgium, Switzerland, Morocco, Senegal, Côte d'Ivoire (French)
    ("Appelez-moi au 06 12 34 56 78 svp", "Appelez-moi au [phone] svp"),
    ("mon numéro : 06.12.34.56.78", "mon numéro : [phone]"),
    ("tel 06-12-34-56-78 merci", "tel [phone] merci"),
    ("0612345678", "[phone]"),
    ("joignable au +33 6 12 34 56 78", "joignable au [phone]"),
    ("+33 (0)1 45 67 89 10 au bureau", "[phone] au bureau"),
    ("0033 6 12 34 56 78", "[phone]"),
    ("0033612345678 c'est moi", "[phone] c'est moi"),
    ("mon portable belge 0470 12 34 56", "mon portable belge [phone]"),
    ("en Suisse: 079 123 45 67", "en Suisse: [phone]"),
    ("au Maroc +212 6 12 34 56 78", "au Maroc [phone]"),
    ("à Dakar 77 123 45 67", "à Dakar [phone]"),
    ("Abidjan +225 07 07 12 34 56", "Abidjan [phone]"),
    # United Kingdom, United States, Nigeria, Ghana (English)
    ("call me on 07911 123456 please", "call me on [phone] please"),
    ("my number is +44 7911 123456", "my number is [phone]"),
    ("office +44 (0)20 7946 0018", "office [phone]"),
    ("(212) 555-0123 is my cell", "[phone] is my cell"),
    ("call 212-555-0123 or 212.555.0199", "call [phone] or [phone]"),
    ("+1 212 555 0123", "[phone]"),
    ("Lagos: 0803 123 4567", "Lagos: [phone]"),
    ("whatsapp +234 803 123 4567", "whatsapp [phone]"),
    ("Accra 024 123 4567", "Accra [phone]"),
    # Spain, Mexico, Colombia, Venezuela (Spanish)
    ("mi número es 612 34 56 78", "mi número es [phone]"),
    ("llámame al 612 345 678", "llámame al [phone]"),
    ("fijo 91 123 45 67", "fijo [phone]"),
    ("+34 612 34 56 78", "[phone]"),
    ("0034 612345678", "[phone]"),
    ("México +52 55 1234 5678", "México [phone]"),
    ("Colombia 300 1234567", "Colombia [phone]"),
    # Issue 21: digits one by one, commas, underscores, a trunk 0 alone
    ("phone 0 6 1 2 3 4 5 6 7 8", "phone [phone]"),
    ("tel 06,12,34,56,78", "tel [phone]"),
    ("mon portable 06_12_34_56_78", "mon portable [phone]"),
    ("joignable au 0 612 345 678", "joignable au [phone]"),
    ("Venezuela 0412-1234567", "Venezuela [phone]"),
    # Other scripts' digits (Arabic-Indic)
    ("رقمي ٠٦١٢٣٤٥٦٧٨", "رقمي [phone]"),
]

EMAILS = [
    ("écrivez à jean.dupont@gmail.com merci", f"écrivez à {EMAIL} merci"),
    ("my email: John_Smith+iom@yahoo.co.uk.", f"my email: {EMAIL}."),
    ("correo: maría.garcía@correo.es", f"correo: {EMAIL}"),
    ("jean (at) orange.fr", EMAIL),
    ("jean[at]orange[dot]fr", EMAIL),
    ("fatou arobase yahoo.fr", EMAIL),
    ("pedro arroba gmail punto com", "pedro arroba gmail punto com"),  # no dot at all: left as is
    ("my email is grace at yahoo.com", f"my email is {EMAIL}"),  # issue 21: " at ", no brackets
    ("write to peter_obrien at hotmail.co.uk", f"write to {EMAIL}"),
    ("Look at iom.int for the facts", "Look at iom.int for the facts"),  # an everyday "at"
    ("pedro arroba gmail.com", EMAIL),
    ("contact @ hotmail.com", EMAIL),
]

NUMBERS = [
    # IBAN (valid checksums), grouped and compact
    ("IBAN FR76 3000 6000 0112 3456 7890 189", f"IBAN {NUMBER}"),
    ("ES9121000418450200051332 es mi cuenta", f"{NUMBER} es mi cuenta"),
    ("GB82 WEST 1234 5698 7654 32", NUMBER),
    ("mon IBAN fr76 3000 6000 0112 3456 7890 189", f"mon IBAN {NUMBER}"),  # lower case, whole
    ("gb82 west 1234 5698 7654 32", NUMBER),
    # Card numbers (Luhn)
    ("ma carte 4970 1012 3456 7899", f"ma carte {NUMBER}"),
    ("card 4111-1111-1111-1111 exp 12/27", f"card {NUMBER} exp 12/27"),
    # Passports, ID cards, residence permits
    ("passeport 12AB34567", f"passeport {NUMBER}"),
    ("DNI 12345678Z", f"DNI {NUMBER}"),
    ("mi NIE es X1234567L", f"mi NIE es {NUMBER}"),
    ("passport no. A12345678", f"passport no. {NUMBER}"),
    ("CIN AB 123456", f"CIN {NUMBER}"),
    ("numéro de sécurité sociale 1 85 05 78 006 084 36", f"numéro de sécurité sociale {NUMBER}"),
    ("titre de séjour 7501234567", f"titre de séjour {NUMBER}"),
    ("mon numéro de dossier est 45821", f"mon numéro de dossier est {NUMBER}"),
    ("expediente n° 20931", f"expediente n° {NUMBER}"),
    ("ID: 1234567", f"ID: {NUMBER}"),
]

# Questions people ask, with the numbers in them: nothing to redact.
KEEP = [
    "Depuis quand l'OIM existe ? depuis 1951 ?",
    "L'OIM compte 175 États membres et 8 observateurs",
    "What is SDG 10.7?",
    "ODD 10.7 et 8.7, et la cible 16.2",
    "Agenda 2030 et l'OIM",
    "Qu'a fait l'OIM pendant la COVID-19 ?",
    "le Pacte mondial adopté le 19 décembre 2018 (A/RES/73/195)",
    "résolution A/RES/70/1",
    "entre 2015 et 2030",
    "2015-2030",
    "de 1989 à 1991 puis 1998-2008",
    "Pacte adopté le 18/12/2018 à Marrakech",
    "le 10.12.2018",
    "2018-12-10",
    "281 000 000 migrants internationaux dans le monde ?",
    "281 millions de migrants",
    "plus de 18 000 employés et 590 bureaux",
    "100,000,000 people displaced",
    "1 000 000 de personnes",
    "2 000 000 000 dollars",
    "le budget est de 3,0 milliards",
    "3 623 412 personnes",
    "25 678 901 personnes",
    "12.345.678 personas",
    "128,134,938 people",
    "en 1951 1956 1989",
    "les ODD 1 2 3 4 5 6 7 8 9 10",
    "Members: 175 (2024), observers: 8",
    "+50% en 2023",
    "la cible 10.7.2",
    "ISO 3166-1",
    "UN Doc A/73/L.66",
    "le G20 et le G7",
    "Conférence de 1951 à Bruxelles, 16 pays",
    "de 14h00 à 18h30",
    "Combien coûte un visa ? 1500 euros ?",
    "Mon visa expire en 2025",
    "article 13 de la Déclaration",
    "Quiero saber sobre los 175 Estados Miembros desde 1951",
    "¿Qué es el ODS 10.7?",
    "H1N1 et COVID-19",
    "version 2.0",
    "mon code postal 75008",
    "j'ai 3 enfants de 2, 5 et 9 ans",
    "/ask_member_states{\"country\":\"FR\"}",
    "/ask_history",
    "articles 10, 11, 12, 13 and 14",
    "les sections 1,2,3,4,5,6,7,8,9",
]


@pytest.mark.parametrize("message, expected", PHONES)
def test_phone_numbers_become_phone(message, expected):
    assert redact(message) == expected


@pytest.mark.parametrize("message, expected", EMAILS)
def test_email_addresses_become_email(message, expected):
    assert redact(message) == expected


@pytest.mark.parametrize("message, expected", NUMBERS)
def test_account_card_and_id_numbers_become_number(message, expected):
    assert redact(message) == expected


@pytest.mark.parametrize("number", ["123456789", "524813907", "5248139071", "98765432101"])
def test_digit_only_ids_are_redacted_one_way_or_the_other(number):
    # 9 to 11 digits in one piece: a passport or a phone number of some country; gone either way.
    assert redact(f"my passport number is {number}") in (
        f"my passport number is {NUMBER}", f"my passport number is {PHONE}"
    )


@pytest.mark.parametrize("message", KEEP)
def test_questions_with_numbers_stay_as_they_are(message):
    assert redact(message) == message


@pytest.mark.parametrize("message, expected", [
    # What a person suffers reaches the assistant whole (a CI run redacted "call me names").
    ("my neighbours call me names because I'm foreign",
     "my neighbours call me names because I'm foreign"),
    ("at work they call me a thief", "at work they call me a thief"),
    ("people call me illegal", "people call me illegal"),
    # A name after "call me" is still taken out.
    ("you can call me Sam, what jobs do you have?", f"you can call me {NAME}, what jobs do you have?"),
    ("Call me Jean-Baptiste. Who runs IOM?", f"Call me {NAME}. Who runs IOM?"),
])
def test_call_me_takes_out_a_name_not_an_insult(message, expected):
    assert redact(message) == expected


def test_several_kinds_in_one_message():
    message = (
        "Bonjour, je m'appelle Awa, passeport 12AB34567, tel +221 77 123 45 67, "
        "mail awa.diop@gmail.com. Depuis 1951 l'OIM aide 175 pays ?"
    )
    assert redact(message) == (
        f"Bonjour, je m'appelle {NAME}, passeport {NUMBER}, tel {PHONE}, mail {EMAIL}. "
        "Depuis 1951 l'OIM aide 175 pays ?"
    )


def test_metadata_strings_are_redacted_and_structure_kept():
    metadata = {"language": "fr", "contact": {"email": "a.b@c.org", "phones": ["+33612345678", 3]}}
    assert redact_data(metadata) == {
        "language": "fr", "contact": {"email": EMAIL, "phones": [PHONE, 3]}
    }


def test_redact_message_changes_text_and_metadata_in_place():
    class Message:
        text = "mon numéro 06 12 34 56 78"
        metadata = {"language": "fr", "note": "x@y.fr"}

    message = Message()
    redact_message(message)
    assert (message.text, message.metadata) == (f"mon numéro {PHONE}", {"language": "fr", "note": EMAIL})


def test_non_text_and_empty_are_left_alone():
    assert redact(None) is None
    assert redact("") == ""
    assert redact("Qui dirige l'OIM ?") == "Qui dirige l'OIM ?"


@pytest.mark.parametrize("message", [
    ("06 12 34 56 78 et 1951, " * 45)[:1000],
    "x" * 999 + "@",
    ("a" * 60 + "@") * 16,
    "1 " * 499 + "a",
    "numéro de " * 99 + "12345",
    # privacy/identity.py's triggers and street words, over and over (issue 21)
    "1 rue " * 166, "Calle a " * 124 + "1", "my name is " * 90, "x.y at " * 142,
    "1 A B C " * 124 + "Street", "Hello, I am " * 83, "born on " * 124,
])
def test_no_message_makes_the_patterns_backtrack_for_long(message):
    # The guard lets up to 1000 characters through; no pattern may hang the server on them.
    start = time.perf_counter()
    redact(message)
    assert time.perf_counter() - start < 0.5


def _sentences() -> list:
    """Every example of the NLU training data and hold-out sets, and every test-story message."""
    import glob

    import yaml

    from tests.servers import ROOT

    found = []
    for path in sorted(glob.glob(str(ROOT / "data" / "**" / "*.yml"), recursive=True)) + sorted(
        glob.glob(str(ROOT / "tests" / "nlu_holdout" / "*.yml"))
    ):
        for block in (yaml.safe_load(open(path, encoding="utf-8")) or {}).get("nlu") or []:
            examples = block.get("examples") or ""
            found += [line[2:].strip() for line in examples.splitlines() if line.startswith("- ")]
    for path in sorted(glob.glob(str(ROOT / "tests" / "stories" / "*.yml"))):
        for story in (yaml.safe_load(open(path, encoding="utf-8")) or {}).get("stories") or []:
            found += [str(step["user"]).strip() for step in story.get("steps") or [] if "user" in step]
    return found


def test_no_training_hold_out_or_story_sentence_is_changed():
    # What the classifier learnt from must read the same after redaction, and the hold-out
    # figures stay comparable: none of these sentences holds personal data.
    sentences = _sentences()
    assert len(sentences) > 1000
    changed = [(s, redact(s)) for s in sentences if redact(s) != s]
    assert changed == []
