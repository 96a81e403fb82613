"""Who and where a person is: names they introduce, street addresses, dates of birth.

Called by privacy/redact.py before the numbers are looked at. Each kind is recognised by what
introduces or shapes it, not by a statistical guess, because the assistant is asked about named
people and places all day ("Who is Amy Pope?", "Is Chad a member?", "IOM in Rue de Lausanne?")
and must still understand those (docs/privacy.md: spaCy's small models, judged on the same
labelled messages, took public figures and countries for personal names):

- `[name]`: the words after "my name is", "my name's", "I'm called", "call me" (then a capital),
  "my son's name is", "Name:", a greeting then "I'm"; "je m'appelle", "je me nomme", "mon nom
  est", "mon prénom est", "moi c'est", "mon fils s'appelle", "Nom :", "bonjour, je suis"; "me
  llamo", "mi nombre es", "mi apellido es", "mi hijo se llama", "Nombre:", "hola, soy". One to
  four words, lower case too, stopping at the first word that cannot be part of a name (and, et,
  y, je, I, from, de when no capitalised word follows...);
- `[address]`: a house number and a street ("12 rue de la République", "221B Baker Street",
  "Calle Mayor 15", "Rue de Lausanne 45", "Calle 45 # 12-30", "Carrera 7 No. 32-16"), with the
  postcode and town right after it ("69002 Lyon"). A street named without a house number is a
  place, not an address, and is kept; so are addresses on IOM's own streets (PUBLIC_STREETS);
- `[birthdate]`: a date (or a year) right after "born on/in", "date of birth", "DOB", "né le",
  "née en", "date de naissance", "nací el", "nacido en", "fecha de nacimiento"... Other dates
  (the Compact's adoption, IOM's founding) are kept.
"""

from __future__ import annotations

import re

NAME = "[name]"
ADDRESS = "[address]"
BIRTHDATE = "[birthdate]"

# --- names -------------------------------------------------------------------------------------

_APOSTROPHE = r"['’`´]"
_RELATIVE = (
    r"son|daughter|wife|husband|brother|sister|mother|father|mum|mom|dad|child|friend|cousin"
    r"|uncle|aunt|partner|baby|nephew|niece"
)
_RELATIVE_FR = (
    r"fils|fille|mari|femme|épouse|epouse|frère|frere|sœur|soeur|mère|mere|père|pere|enfant"
    r"|ami|amie|cousin|cousine|oncle|tante|bébé|bebe|neveu|nièce|niece|compagnon|compagne"
)
_RELATIVE_ES = (
    r"hijo|hija|esposo|esposa|marido|mujer|hermano|hermana|madre|padre|mamá|mama|papá|papa"
    r"|amigo|amiga|primo|prima|tío|tio|tía|tia|bebé|bebe|sobrino|sobrina|pareja|novio|novia"
)
_GREETING = (
    r"hi|hello|hey|good (?:morning|afternoon|evening)|dear all|bonjour|bonsoir|salut|coucou"
    r"|hola|buenos días|buenos dias|buenas tardes|buenas noches|buenas"
)
_NAME_TRIGGERS = [
    # English
    rf"\b(?:my|his|her|our)(?:\s+(?:{_RELATIVE}){_APOSTROPHE}s)?\s+(?:(?:full|first|last|family|"
    rf"given|real|sur|middle)\s*)?name(?:\s+is|{_APOSTROPHE}s|\s*[:=])",
    r"\bi(?:'m|’m| am)\s+called",
    r"\bi\s+go\s+by",
    # French
    rf"\bje\s+m{_APOSTROPHE}?\s?appelle",
    r"\bje\s+me\s+(?:nomme|prénomme|prenomme)",
    rf"\b(?:mon|son)\s+(?:nom|prénom|prenom)(?:\s+de\s+famille)?\s+(?:est|c{_APOSTROPHE}est)",
    rf"\bmoi\s+c{_APOSTROPHE}est",
    rf"\b(?:mon|ma)\s+(?:{_RELATIVE_FR})\s+s{_APOSTROPHE}\s?appelle",
    # Spanish
    r"\bme\s+llamo",
    r"\bmi\s+(?:nombre(?:\s+completo)?|apellido)\s+es",
    r"\bmis\s+apellidos\s+son",
    rf"\bmi\s+(?:{_RELATIVE_ES})\s+se\s+llama",
    # A form: "Name: ...", "Nom : ...", "Nombre: ...", "Prénom : ..."
    r"(?:^|(?<=[\n,;.]))\s*(?:(?:full|first|last|given|family)\s+)?"
    r"(?:name|nom|prénom|prenom|nombre|apellidos?)\s*:",
]
_NAME_TRIGGER = re.compile(
    "(?:" + "|".join(_NAME_TRIGGERS) + r")(?![\w'’])[\s,:]*", re.IGNORECASE)
# "call me X" only with a capitalised X: "you can call me Sam" is a name, "they call me names",
# "people call me a thief" are what a person suffers and must reach the assistant whole.
_CALL_ME_TRIGGER = re.compile(r"\bcall\s+me(?![\w'’])[\s,:]*(?=[A-ZÀ-ÖØ-Þ])", re.IGNORECASE)
# A greeting, then "I'm X" / "je suis X" / "soy X", and only with a capitalised X: "I am French",
# "je suis bloqué", "soy migrante" are not names.
_GREETING_TRIGGER = re.compile(
    rf"(?:^|(?<=[.!]))\s*(?:{_GREETING})[\s,!.]*(?:i(?:{_APOSTROPHE}m|\s+am)|je\s+suis|soy)\s+"
    r"(?=[A-ZÀ-ÖØ-Þ])",
    re.IGNORECASE)
# Without a greeting, at the start of a sentence, two capitalised words: "I'm Amina Bello, ...",
# "Je suis Jean Dupont" (not "I'm French", "Soy Estado miembro?").
_SELF_TRIGGER = re.compile(
    rf"(?:^|(?<=[.!?]))\s*(?:[Ii](?:{_APOSTROPHE}m|\s+am)|[Jj]e\s+suis|[Ss]oy)\s+"
    r"(?=[A-ZÀ-ÖØ-Þ][^\W\d_]+\s+[A-ZÀ-ÖØ-Þ][^\W\d_]+)")

# Words that end a name (lower case): grammar words and common words of the three languages.
_NOT_NAME = set("""
and or but so from in at on to of for with by the a an is am are was were be been have has had
i i'm im me my you your he she we they it this that here there not no yes please thanks thank
who what where when why how which can could would will shall should may might do does did
lost need want help live living stranded looking years year old born just also only now today
back later again soon tomorrow asap maybe anytime when
et ou mais donc car de du des la le les un une à a au aux en dans sur pour par avec chez sans
je j' j’ me m' m’ mon ma mes tu te ton ta il elle on nous vous ils elles ce cet cette ces qui que
quoi où ou comment pourquoi quand suis es est sommes êtes sont ai as avons avez ont été être
ne pas plus oui non merci svp stp bonjour aussi perdu perdue bloqué bloquée cherche veux voudrais
besoin habite vis né née ans depuis là ici et puis alors
y o pero que de del la el los las un una en con por para sin al a yo mi mis tu te se me le lo
es soy eres somos son está estoy estamos tengo tiene tenemos he ha hemos quien qué que dónde donde
cómo como cuándo cuando por qué porque sí si no gracias hola también perdí perdido varado varada
busco quiero necesito vivo nací años desde aquí allí ya solo
""".split())
# Particles inside names ("Maria de la Cruz", "Jean de la Fontaine", "Ben Salah"): allowed when
# a capitalised word follows.
_PARTICLES = {"de", "del", "della", "di", "da", "das", "dos", "du", "des", "la", "le", "van",
              "von", "der", "den", "ben", "bin", "ibn", "el", "al", "ould", "y", "e", "af", "zu"}
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*")


def _name_end(text: str, start: int) -> int:
    """The end of the name that starts at `start` (== start when there is none)."""
    position, end, words = start, start, 0
    while words < 4:
        match = _WORD.match(text, position)
        if not match:
            break
        word = match.group(0)
        lower = word.lower()
        if lower in _PARTICLES and words:
            # "de la Cruz": the particles, then a capitalised word, or the name ends here.
            probe, particles = match.end(), [word]
            while True:
                space = re.match(r"\s+", text[probe:])
                following = _WORD.match(text, probe + (space.end() if space else 0)) if space else None
                if not following:
                    return end
                if following.group(0).lower() in _PARTICLES and len(particles) < 3:
                    particles.append(following.group(0))
                    probe = following.end()
                    continue
                if following.group(0)[0].isupper():
                    position, end, words = following.end(), following.end(), words + 1
                    break
                return end
        elif lower in _NOT_NAME or (lower in _PARTICLES and not words):
            break
        else:
            position, end, words = match.end(), match.end(), words + 1
        space = re.match(r"[ \t]+", text[position:])
        if not space:
            break
        position += space.end()
    return end


_TRIGGERS = (_NAME_TRIGGER, _CALL_ME_TRIGGER, _GREETING_TRIGGER, _SELF_TRIGGER)
_CAPITALISED_ONLY = (_CALL_ME_TRIGGER, _GREETING_TRIGGER)


def _names(text: str) -> str:
    pieces, last = [], 0
    triggers = sorted(
        [m for pattern in _TRIGGERS
         for m in pattern.finditer(text)],
        key=lambda match: match.start())
    for trigger in triggers:
        if trigger.start() < last:
            continue
        if trigger.re in _CAPITALISED_ONLY and not text[trigger.end():trigger.end() + 1].isupper():
            continue  # the lookahead's class is ASCII-ish under IGNORECASE: check again
        end = _name_end(text, trigger.end())
        if end > trigger.end():
            pieces += [text[last:trigger.end()], NAME]
            last = end
    return "".join(pieces) + text[last:] if pieces else text


# --- street addresses --------------------------------------------------------------------------

_STREET_FR = (
    r"rue|avenue|av\.?|bd|boulevard|chemin|ch\.|impasse|allée|allee|place|pl\.|route|rte|quai"
    r"|cours|square|cité|cite|résidence|residence|lotissement|passage|voie|sentier|faubourg|fbg"
    r"|montée|montee|esplanade|promenade|parvis|rond-point"
)
_STREET_EN = (
    r"street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|drive|boulevard|blvd\.?|way|close|court"
    r"|crescent|terrace|gardens|grove|mews|row|square|highway|hwy|parkway|circle"
)
_STREET_ES = (
    r"calle|c/|avenida|avda\.?|av\.?|paseo|plaza|carrera|cra\.?|kr\.?|carretera|camino|calzada"
    r"|ronda|travesía|travesia|pasaje|diagonal|transversal|urbanización|urbanizacion|urb\.?"
    r"|callejón|callejon|colonia|col\."
)
# IOM's own address (17 route des Morillons, Geneva): asked about, never a person's.
PUBLIC_STREETS = ("route des morillons",)

_NUMBER = r"\d{1,5}(?:\s?(?:bis|ter|[a-hA-H])\b)?"
_STREET_WORD = r"(?:[^\W\d_][\w'’\-.]*)"
_STREET_WORDS = rf"{_STREET_WORD}(?:\s+{_STREET_WORD}){{0,4}}"
_POSTCODE_TOWN = r"(?:,?\s*(?:\d{4,5}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})\s+[^\W\d_][\w'’\-]*(?:[ -][A-Z][\w'’\-]*){0,2})?"
_YEARISH = re.compile(r"^(?:1[89]|20)\d\d$")

# "12 rue de la République", "5 bis avenue Jean Jaurès", "48 boulevard de Belleville"
_NUMBER_THEN_STREET = re.compile(
    rf"(?<![\w/.,:-])({_NUMBER}),?\s+(?:{_STREET_FR}|{_STREET_ES})\s+{_STREET_WORDS}{_POSTCODE_TOWN}",
    re.IGNORECASE,
)
# "221B Baker Street", "14 Oak Road", "1600 Pennsylvania Ave"
_NUMBER_NAME_STREET = re.compile(
    rf"(?<![\w/.,:-])({_NUMBER})\s+(?:[A-Z][\w'’\-]*\s+){{1,3}}(?i:{_STREET_EN})(?!\w)"
    + _POSTCODE_TOWN,
)
# "Calle Mayor 15", "Rue de Lausanne 45", "Calle 45 # 12-30", "Carrera 7 No. 32-16",
# "Av. Insurgentes Sur 1234", "calle de Alcalá nº 50". Street words that are also everyday words
# before a number ("square root of 144", "la place de l'OIM ... 2030", "route 66") only in the
# number-first form; a year-like number without "nº"/"#" is a year (_address).
_STREET_FIRST = (
    r"rue|avenue|av\.?|bd|boulevard|chemin|ch\.|impasse|allée|allee|quai|faubourg|fbg"
    r"|chaussée|chaussee|" + _STREET_ES
)
_STREET_THEN_NUMBER = re.compile(
    rf"(?<![\w])(?:{_STREET_FIRST})\s+(?:{_STREET_WORDS}\s+|\d{{1,3}}[A-Za-z]?\s*)"
    r"((?:n[º°o]\.?|no\.|número|numero|#)\s*)?(\d{1,5})[A-Za-z]?(?:\s*[-#]\s*\d{1,4})?"
    r"(?![\w.,]\d)" + _POSTCODE_TOWN,
    re.IGNORECASE,
)
# Words that end a street name taken with "rue ..." (the rest of the sentence follows).
_STREET_STOP = re.compile(
    r"\s+(?:et|and|y|je|j'|j’|i|yo|à|a|in|en|chez|with|avec|con|pour|for|para|depuis|since|"
    r"desde|mais|but|pero|merci|thanks|gracias|svp|please|por)\b.*$",
    re.IGNORECASE | re.DOTALL,
)


def _address(match: "re.Match[str]") -> str:
    found = match.group(0)
    kept = _STREET_STOP.sub("", found)
    rest = found[len(kept):]
    if any(street in kept.lower() for street in PUBLIC_STREETS):
        return found
    if not any(c.isdigit() for c in kept):
        return found  # "la rue depuis 3 mois": the number was not the street's
    if match.re is _STREET_THEN_NUMBER:
        if not match.group(1) and _YEARISH.match(match.group(2)):
            return found  # "avenue ... 2030": a year
    elif _YEARISH.match(match.group(1)) and not kept[len(match.group(1)):].strip()[:1].isupper():
        return found  # "in 2019 the ... road": a year
    return ADDRESS + rest


def _addresses(text: str) -> str:
    if not any(c.isdigit() for c in text):
        return text
    for pattern in (_NUMBER_THEN_STREET, _NUMBER_NAME_STREET, _STREET_THEN_NUMBER):
        text = pattern.sub(_address, text)
    return text


# --- dates of birth ----------------------------------------------------------------------------

_MONTH_NAMES = (
    "janvier janv février fevrier févr fevr mars avril avr mai juin juillet juil août aout "
    "septembre sept octobre oct novembre nov décembre decembre déc dec "
    "january jan february feb march mar april apr may june jun july jul august aug september sep "
    "october november december "
    "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre "
    "diciembre"
).split()
# Longest first, and a whole word: "marzo" is not "mar" + "zo".
_MONTHS = "(?:" + "|".join(sorted(set(_MONTH_NAMES), key=len, reverse=True)) + r")(?![^\W\d_])"
_DAY = r"(?:1er|1st|2nd|3rd|\d{1,2}(?:st|nd|rd|th|º|°)?)"
_YEAR = r"(?:19|20)?\d\d"
# A full date after any of these: "born on 12 March 1990", "née le 03/07/1985", "mi hija nació
# el 2 de junio de 2015", "date of birth: ...".
_BIRTH = (
    r"born(?:\s+on)?|date\s+of\s+birth|birth\s*date|d\.?o\.?b\.?|birthday\s+is"
    r"|n[ée]e?s?(?:\s*\(e\))?\s+le|date\s+de\s+naissance|ddn|anniversaire\s+(?:est\s+)?le"
    r"|nac[íi](?:do|da)?\s+el|nació\s+el|(?:fecha\s+de|f\.)\s+nacimiento|cumpleaños\s+es\s+el"
)
_FULL_DATE = (
    rf"(?:\d{{1,2}}\s*[./-]\s*\d{{1,2}}\s*[./-]\s*{_YEAR}"
    rf"|(?:19|20)\d\d\s*[./-]\s*\d{{1,2}}\s*[./-]\s*\d{{1,2}}"
    rf"|{_DAY}\s+(?:de\s+|of\s+)?(?:{_MONTHS})\.?(?:,?\s+(?:de\s+|del\s+)?{_YEAR})?"
    rf"|(?:{_MONTHS})\.?\s+{_DAY},?\s+{_YEAR})(?!\d)"
)
# Only a month and a year, or a year, when the person says it of themselves or a relative: "I was
# born in 1987", "je suis né en mars 1990", "nací en 1987", "my son was born in 2015" (not "IOM
# was born in 1951").
_BORN_IN = (
    r"(?:\bi\s+was|\bi(?:'m|’m|\s+am)|\bwe\s+were|\bmy\s+\w+\s+(?:was|is))\s+born\s+in"
    r"|\b(?:je\s+suis|suis|nous\s+sommes|mon\s+\w+\s+est|ma\s+\w+\s+est)\s+n[ée]e?s?"
    r"(?:\s*\(e\))?\s+en"
    r"|\bnac[íi]\s+en|\bnacimos\s+en|\bmi\s+\w+\s+naci[óo]\s+en"
)
_PART_DATE = rf"(?:(?:{_MONTHS})\.?\s+(?:de\s+)?(?:19|20)\d\d|(?:19|20)\d\d)(?!\d)"
_BIRTHDATES = (
    re.compile(rf"(?<!\w)(?:{_BIRTH})(?:\s*[:=]\s*|\s+)(?:(?:is|est|es)\s+)?"
               rf"(?:(?:on|le|el|the)\s+)?({_FULL_DATE})", re.IGNORECASE),
    re.compile(rf"(?:{_BORN_IN})\s+({_FULL_DATE}|{_PART_DATE})", re.IGNORECASE),
)


def _birthdates(text: str) -> str:
    if not any(c.isdigit() for c in text):
        return text
    for pattern in _BIRTHDATES:
        text = pattern.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + BIRTHDATE, text)
    return text


def redact_identity(text: str) -> str:
    """`text` with introduced names, street addresses and dates of birth replaced."""
    return _names(_addresses(_birthdates(text)))
