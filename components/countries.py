"""Country names in French, English and Spanish -> ISO 3166-1 alpha-2 codes; which codes are states.

Names come from well-kept libraries rather than a hand-made list: the everyday names of the
Unicode CLDR in fr, en and es (Babel: "Russie", "Russia", "Rusia") and the ISO 3166 names with
their French and Spanish translations (pycountry: "Russian Federation", "Fédération de Russie",
"Rusia, Federación de"), plus the short forms people type that neither lists (ALIASES: "UK",
"EE. UU.", "RDC", "Ivory Coast", "Saint-Siège"...) and the IOM list's own spellings. Matching
ignores case, accents, hyphens and apostrophes, prefers the longest name ("Guinée-Bissau" over
"Guinée") and only ever reports whole words.

Some names are also common words or first names ("guinea pig", "prochaine réunion", "turkey
recipe", "I'm Chad", "Atlanta, Georgia", "una cuba de vino"): COMMON_WORDS says, for each, which
neighbouring or context words give the other meaning, or that the place needs a capital letter
mid-sentence or a place word. A bare "Congo" names both Congos (CG and CD); "RDC", "DR Congo",
"Congo-Kinshasa" only the Democratic Republic, "Congo-Brazzaville" only the Republic.

Every ISO 3166-1 code is recognised, territories included (La Réunion, Guadeloupe...), so that a
question about them gets an honest answer; `is_un_state` tells the 195 member and observer states
of the United Nations from the 54 other ISO codes. Region codes (EU, UN, 001...) are never codes.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

import pycountry
from babel import Locale

LANGUAGES = ("fr", "en", "es")
ISO_CODES = frozenset(country.alpha_2 for country in pycountry.countries)
# ISO 3166-1 codes that are not member or observer states of the United Nations (dependent
# territories, Antarctica, Taiwan, Western Sahara, and Cook Islands and Niue, states in free
# association with New Zealand). The other 195 are the 193 UN members, the Holy See and Palestine.
NOT_UN_STATES = frozenset(
    """
    AI AQ AS AW AX BL BM BQ BV CC CK CW CX EH FK FO GF GG GI GL GP GS GU HK HM IM IO JE KY MF MO
    MP MQ MS NC NF NU PF PM PN PR RE SH SJ SX TC TF TK TW UM VG VI WF YT
    """.split()
)
MAX_NAME_WORDS = 8


def is_country_code(code: object) -> bool:
    """An ISO 3166-1 alpha-2 country code (not a CLDR region such as EU, UN, ZZ or 419)."""
    return isinstance(code, str) and code in ISO_CODES


def is_un_state(code: object) -> bool:
    return is_country_code(code) and code not in NOT_UN_STATES


def fold(text: str) -> str:
    """Lower case, no accents, apostrophes/hyphens/punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^\w]+", " ", plain.replace("’", "'")).strip()


def _words(name: str) -> Tuple[str, ...]:
    return tuple(fold(name).split())


# Short forms and other names that neither library lists, in the three languages; () marks a name
# that is NOT a country although it contains one ("New Guinea" is an island of two states).
ALIASES: Dict[str, Tuple[str, ...]] = {
    **dict.fromkeys(
        ["usa", "u s a", "u s", "etats unis d amerique", "etats unis", "estados unidos de america",
         "eeuu", "ee uu", "e e u u", "america", "amerique", "united states of america"], ("US",)),
    **dict.fromkeys(
        ["uk", "u k", "angleterre", "england", "inglaterra", "grande bretagne", "great britain",
         "gran bretana", "britain", "ecosse", "scotland", "escocia", "pays de galles", "wales",
         "pais de gales", "northern ireland", "irlande du nord", "irlanda del norte"], ("GB",)),
    **dict.fromkeys(["hollande", "holland", "holanda", "the netherlands"], ("NL",)),
    **dict.fromkeys(["russie", "rusia", "russia"], ("RU",)),
    **dict.fromkeys(
        ["rdc", "r d c", "drc", "d r c", "rd congo", "r d congo", "dr congo", "d r congo",
         "rd du congo", "rd del congo", "congo rdc", "congo rd", "congo drc", "congo kinshasa", "congo democratique",
         "republique democratique du congo", "democratic republic of congo",
         "democratic republic of the congo", "republica democratica del congo"], ("CD",)),
    **dict.fromkeys(
        ["congo brazzaville", "congo brazza", "republique du congo", "republic of the congo",
         "republic of congo", "republica del congo", "congo republic"], ("CG",)),
    "congo": ("CG", "CD"),
    **dict.fromkeys(["coree", "korea", "corea"], ("KR",)),
    **dict.fromkeys(["cote d ivoire", "cote divoire", "ivory coast", "costa de marfil"], ("CI",)),
    **dict.fromkeys(["turkey", "turquie", "turquia", "turkiye"], ("TR",)),
    **dict.fromkeys(
        ["vatican", "vatican city", "cite du vatican", "etat de la cite du vatican", "vaticano",
         "ciudad del vaticano", "saint siege", "holy see", "santa sede"], ("VA",)),
    **dict.fromkeys(["palestine", "palestina", "etat de palestine", "estado de palestina"], ("PS",)),
    **dict.fromkeys(["arabia saudita", "arabie saoudite", "saudi arabia"], ("SA",)),
    **dict.fromkeys(["uae", "emirats", "emiratos"], ("AE",)),
    **dict.fromkeys(["czech republic", "republique tcheque", "republica checa"], ("CZ",)),
    **dict.fromkeys(["burma", "birmanie", "birmania"], ("MM",)),
    **dict.fromkeys(["east timor", "timor oriental"], ("TL",)),
    **dict.fromkeys(["swaziland", "suazilandia"], ("SZ",)),
    **dict.fromkeys(["cape verde", "cap vert", "cabo verde"], ("CV",)),
    **dict.fromkeys(["macedonia", "macedoine", "macedonie"], ("MK",)),
    **dict.fromkeys(["moldavia", "moldavie", "moldova"], ("MD",)),
    **dict.fromkeys(["bielorussie", "bielorrusia", "belarus", "bielarus"], ("BY",)),
    **dict.fromkeys(["bosnia", "bosnie"], ("BA",)),
    **dict.fromkeys(["centrafrique", "republica centroafricana"], ("CF",)),
    **dict.fromkeys(["sao tome", "santo tome"], ("ST",)),
    **dict.fromkeys(["saint kitts", "st kitts", "san cristobal"], ("KN",)),
    **dict.fromkeys(["ile maurice", "l ile maurice", "isla mauricio"], ("MU",)),
    **dict.fromkeys(["ile de la reunion", "isla de la reunion", "reunion island"], ("RE",)),
    **dict.fromkeys(["south georgia", "georgie du sud", "georgia del sur"], ("GS",)),
    "viet nam": ("VN",),
    "laos": ("LA",),
    "syrie": ("SY",),
    "kirghizstan": ("KG",),
    # The IOM list's own spellings that the libraries lack (facts/states.tsv).
    "sverige": ("SE",),
    "българия": ("BG",),
    "commonwealth of the bahamas": ("BS",),
    "state of kuwait": ("KW",),
    "republic of sudan": ("SD",),
    # Not countries, though they contain a country's name.
    **dict.fromkeys(["new guinea", "nouvelle guinee", "nueva guinea"], ()),
    **dict.fromkeys(["new mexico", "nouveau mexique", "nuevo mexico"], ()),
    **dict.fromkeys(["new jersey"], ()),
    **dict.fromkeys(["amerique latine", "latin america", "america latina", "amerique du sud",
                     "south america", "america del sur", "amerique du nord", "north america",
                     "america del norte", "amerique centrale", "central america",
                     "america central"], ()),
}
# Written in capitals only ("us" in "tell us" is not the United States; "EAU" is not water).
UPPERCASE_ALIASES = {"US": "US", "UAE": "AE", "EAU": "AE", "RCA": "CF"}


@dataclass(frozen=True)
class CommonWord:
    """When a country name that is also an ordinary word or a first name means the country.

    A name is not the country when one of `prev` (the 1-3 words just before it) or `next` (the
    word just after) or `context` (any word of the message) is there; with `person`, not when it
    reads as someone's name ("I'm Chad", "Michael Jordan"); with `capital`, only when written with
    a capital letter mid-sentence or right after one of `place` ("à la Réunion", "île de la
    Réunion"); with `needs`, only when the message also has one of those words ("Granada"
    is a Spanish city unless the message is about membership). `lowercase` limits the word
    rules to the name written in small letters ("la OIM usa datos" vs "USA").
    """

    prev: FrozenSet[Tuple[str, ...]] = frozenset()
    next: FrozenSet[str] = frozenset()
    context: FrozenSet[str] = frozenset()
    person: bool = False
    capital: bool = False
    place: FrozenSet[Tuple[str, ...]] = frozenset()
    needs: FrozenSet[str] = frozenset()
    lowercase: bool = False


def _prev(*phrases: str) -> FrozenSet[Tuple[str, ...]]:
    return frozenset(tuple(p.split()) for p in phrases)


def _set(text: str) -> FrozenSet[str]:
    return frozenset(text.split())


# Words that show a message is about states and IOM membership.
MEMBERSHIP_WORDS = _set(
    """membre membres member members miembro miembros etat etats state states estado estados pays
    country countries pais paises oim iom observateur observer observador observadora adhesion
    bureau office oficina caraibes caribbean caribe ile island isla"""
)
FOOD = _set(
    """recipe recipes recette receta roast roasted oven cook cooking cooked bake baking thanksgiving
    stuffing gravy carve carving feathers bird birds meat eat eating dinner leftovers brine fried
    sandwich sauce salsa tacos taco spicy pepper peppers powder carne con beans cheese food comida
    picante piment recette cuisson"""
)
RIVER = _prev("fleuve", "river", "rio", "the river", "delta du", "delta del", "bassin du",
              "cuenca del", "du fleuve", "del rio", "boucle du")
COMMON_WORDS: Dict[Tuple[str, ...], CommonWord] = {
    ("guinea",): CommonWord(next=_set("pig pigs fowl fowls hen hens worm worms")),
    ("inde",): CommonWord(prev=_prev("cochon d", "cochons d", "coq d", "poule d", "bois d")),
    ("india",): CommonWord(prev=_prev("una"), next=_set("ink rubber pale")),
    ("turkey",): CommonWord(
        prev=_prev("a", "roast", "roasted", "smoked", "stuffed", "wild", "ground", "sliced", "cold",
                   "cook", "cooking", "carve", "thanksgiving", "christmas", "the roast"),
        next=_set("recipe recipes sandwich sandwiches breast burger burgers meat dinner leg legs "
                  "bacon ham slices stuffing roast soup gravy vulture vultures hunting wrap club "
                  "bird feathers egg eggs farm chili neck wings"),
        context=FOOD,
    ),
    ("chad",): CommonWord(person=True),
    ("jordan",): CommonWord(person=True),
    ("israel",): CommonWord(person=True),
    ("maurice",): CommonWord(person=True),
    ("dominique",): CommonWord(person=True),
    ("salvador",): CommonWord(person=True),
    ("mauricio",): CommonWord(person=True),
    ("guadalupe",): CommonWord(person=True, needs=MEMBERSHIP_WORDS),
    ("saint", "martin"): CommonWord(needs=MEMBERSHIP_WORDS),
    ("san", "martin"): CommonWord(needs=MEMBERSHIP_WORDS),
    ("curacao",): CommonWord(prev=_prev("blue", "un", "le"), context=_set("cocktail liqueur licor")),
    ("georgia",): CommonWord(
        person=True,
        prev=_prev("south", "state of", "university of"),
        next=_set("tech state usa us"),
        context=_set("atlanta savannah augusta macon alabama florida tennessee carolina usa "
                     "americain american estadounidense"),
    ),
    ("georgie",): CommonWord(context=_set("atlanta savannah alabama floride usa americain")),
    ("niger",): CommonWord(prev=RIVER, next=_set("river delta basin state")),
    ("congo",): CommonWord(prev=RIVER, next=_set("river basin")),
    ("reunion",): CommonWord(
        capital=True, prev=_prev("family", "class", "school", "high school", "college"),
        place=_prev("ile de la", "isla de la"),
    ),
    ("la", "reunion"): CommonWord(capital=True),
    ("cuba",): CommonWord(prev=_prev("una", "la", "las", "unas"), next=_set("libre")),
    ("malta",): CommonWord(
        prev=_prev("una", "la", "de la", "extracto de", "cerveza de", "jarabe de", "bebida de"),
        context=_set("cerveza bebida jarabe tomo beber bebo beer whisky biere"),
    ),
    ("chile",): CommonWord(prev=_prev("salsa de", "green", "red", "chipotle", "el", "un", "con"),
                           next=_set("pepper peppers con relleno rellenos sauce powder verde"),
                           context=FOOD),
    ("chili",): CommonWord(prev=_prev("un", "du bon"),
                           next=_set("con pepper peppers sauce powder dog"), context=FOOD),
    ("china",): CommonWord(prev=_prev("fine", "bone"),
                           next=_set("plate plates cup cups set cabinet doll dolls shop ware"),
                           context=_set("porcelain dishes teacup")),
    ("granada",): CommonWord(needs=MEMBERSHIP_WORDS),
    ("grenade",): CommonWord(needs=MEMBERSHIP_WORDS),
    ("montserrat",): CommonWord(needs=MEMBERSHIP_WORDS),
    ("jersey",): CommonWord(prev=_prev("a", "my", "un", "el", "mi", "le", "mon"),
                            context=_set("shirt football wear lana maillot")),
    ("guernsey",): CommonWord(prev=_prev("a", "my")),
    ("panama",): CommonWord(next=_set("hat hats")),
    ("bermuda",): CommonWord(next=_set("shorts triangle")),
    ("benin",): CommonWord(prev=_prev("est", "c est", "pas", "tres", "plutot", "assez", "cancer",
                                      "tumeur", "kyste")),
    ("suede",): CommonWord(context=_set("veste chaussures cuir blouson sac bottes manteau")),
    ("equateur",): CommonWord(prev=_prev("sur l", "ligne de l", "pres de l"),
                              next=_set("terrestre celeste")),
    ("macedonia",): CommonWord(next=_set("de")),
    ("canada",): CommonWord(next=_set("goose geese")),
    ("brazil",): CommonWord(next=_set("nut nuts")),
    ("america",): CommonWord(prev=_prev("en", "latin", "south", "north", "central", "las")),
    ("amerique",): CommonWord(prev=_prev("en", "les")),
    ("usa",): CommonWord(
        lowercase=True,
        prev=_prev("se", "lo", "que", "quien", "no", "ella", "el", "oim", "iom",
                   "ya", "tambien", "nadie", "cual", "si", "usted"),
        next=_set("la el los las un una lo su sus mucho muchos"),
    ),
    ("rdc",): CommonWord(lowercase=True, prev=_prev("au")),
}
# Words before a first name ("I'm Chad", "je m'appelle Maurice", "me llamo Salvador").
NAME_CUES = _prev(
    "i m", "i am", "im", "name is", "name s", "named", "called", "call me", "this is", "hi",
    "hello", "hey", "dear", "mr", "mrs", "ms", "miss", "thanks", "friend", "brother", "sister",
    "cousin", "son", "daughter", "je suis", "m appelle", "moi c est", "c est moi", "bonjour",
    "salut", "merci", "ami", "amie", "frere", "soeur", "monsieur", "madame", "me llamo", "soy",
    "hola", "gracias", "amigo", "amiga", "senor", "senora",
)
NAME_CUES_NEXT = _set("here ici aqui")
_SENTENCE_END = re.compile(r"[.!?¿¡:;\n]\s*$")


def _name_variants(name: str, lang: str) -> List[str]:
    """A library's name and the forms people write: "Korea, Republic of" -> "Republic of Korea",
    "Myanmar (Burma)" -> "Myanmar", "Burma"; "St. Kitts & Nevis" -> "St. Kitts and Nevis"."""
    names = [name]
    bracket = re.fullmatch(r"(.+?)\s*\((.+)\)", name)
    if bracket:
        base, inner = bracket.groups()
        names += [base, inner]
        if re.search(r"\b(of|de|del|du)$", inner):
            names.append(f"{inner} {base}")
    if ", " in name:
        head, tail = name.split(", ", 1)
        names.append(f"{tail} {head}")
    if "&" in name:
        names += [n.replace("&", {"fr": "et", "en": "and", "es": "y"}[lang]) for n in list(names)]
    return names


def _add(index: Dict[Tuple[str, ...], Tuple[str, ...]], name: Optional[str], codes: Tuple[str, ...]) -> None:
    if not name:
        return
    words = _words(name)
    if not words or len(words) > MAX_NAME_WORDS:
        return
    index.setdefault(words, codes)
    if len(words) > 1 and words[0] in {"the", "la", "le", "les", "l", "el", "los", "las"}:
        index.setdefault(words[1:], codes)


@lru_cache(maxsize=1)
def library_names() -> Dict[str, List[Tuple[str, str]]]:
    """Every ISO country's names from CLDR (fr, en, es) and ISO 3166 (en, fr, es): code ->
    [(language, name)], original spelling (for the NLU lookup table and the tests)."""
    translations = {
        lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]).gettext
        for lang in ("fr", "es")
    }
    cldr = {lang: Locale(lang).territories for lang in LANGUAGES}
    names: Dict[str, List[Tuple[str, str]]] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        found = [(lang, cldr[lang].get(code)) for lang in LANGUAGES]
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                found.append(("en", value))
                found += [(lang, translate(value)) for lang, translate in translations.items()]
        names[code] = [(lang, variant) for lang, name in found if name for variant in _name_variants(name, lang)]
    return names


@lru_cache(maxsize=1)
def name_index() -> Dict[Tuple[str, ...], Tuple[str, ...]]:
    """Folded name (as a word tuple) -> the code(s) it names; () for a phrase that names none."""
    index: Dict[Tuple[str, ...], Tuple[str, ...]] = {}
    for alias, codes in ALIASES.items():  # the explicit choices first: they win
        index[_words(alias)] = codes
    for code, names in library_names().items():
        for _lang, name in names:
            _add(index, name, (code,))
    return index


def _is_capitalised(token: str) -> bool:
    return token[:1].isupper() and not token.isupper()


def _reads_as_a_name(tokens: List[str], folded: List[str], start: int, end: int, initial: List[bool]) -> bool:
    before = folded[max(0, start - 3) : start]
    if any(tuple(before[-n:]) in NAME_CUES for n in (1, 2, 3) if len(before) >= n):
        return True
    if end < len(tokens):
        after = tokens[end]
        if folded[end] in NAME_CUES_NEXT:
            return True
        # "Jordan Peterson", "Chad Smith": a capitalised word that is not about membership.
        if len(after) >= 3 and _is_capitalised(after) and folded[end] not in MEMBERSHIP_WORDS \
                and (folded[end],) not in name_index():
            return True
    # "Michael Jordan": a capitalised word before it, not the first word of a sentence.
    if start > 0 and not initial[start - 1] and _is_capitalised(tokens[start - 1]) \
            and folded[start - 1] not in MEMBERSHIP_WORDS and (folded[start - 1],) not in name_index():
        return True
    return False


def _means_the_country(
    words: Tuple[str, ...], tokens: List[str], folded: List[str], start: int, end: int,
    initial: List[bool], context: FrozenSet[str],
) -> bool:
    rule = COMMON_WORDS.get(words)
    if rule is None:
        return True
    last = tokens[end - 1]
    if rule.lowercase and not last.islower():
        return True
    before = folded[max(0, start - 4) : start]
    previous = {tuple(before[-n:]) for n in (1, 2, 3, 4) if len(before) >= n}
    if previous & rule.prev:
        return False
    if end < len(tokens) and folded[end] in rule.next:
        return False
    if context & rule.context:
        return False
    if rule.needs and not context & rule.needs:
        return False
    if rule.person and _reads_as_a_name(tokens, folded, start, end, initial):
        return False
    if rule.capital:
        capital_mid_sentence = _is_capitalised(last) and not initial[end - 1]
        return capital_mid_sentence or bool(previous & rule.place)
    return True


def find_countries(text: str) -> List[Dict[str, Any]]:
    """Countries named in `text`: [{"start", "end", "value", "text"}], in the order named; a bare
    "Congo" gives two (CG and CD) over the same words."""
    if not text:
        return []
    index = name_index()
    spans = [(m.start(), m.end()) for m in re.finditer(r"[^\W_]+", text)]
    tokens = [text[s:e] for s, e in spans]
    folded = [fold(token) for token in tokens]
    # A word is sentence-initial when nothing but punctuation/space comes before it in its sentence.
    initial = [i == 0 or bool(_SENTENCE_END.search(text[: spans[i][0]])) for i in range(len(spans))]
    context = frozenset(folded)
    found: List[Dict[str, Any]] = []
    i = 0
    while i < len(spans):
        match: Optional[Tuple[int, Tuple[str, ...]]] = None
        for size in range(min(MAX_NAME_WORDS, len(spans) - i), 0, -1):
            words = tuple(folded[i : i + size])
            codes = index.get(words)
            if codes is None and size == 1 and tokens[i] in UPPERCASE_ALIASES:
                codes = (UPPERCASE_ALIASES[tokens[i]],)
            if codes is None:
                continue
            if codes and not _means_the_country(words, tokens, folded, i, i + size, initial, context):
                continue
            match = (size, codes)
            break
        if match is None:
            i += 1
            continue
        size, codes = match
        start, end = spans[i][0], spans[i + size - 1][1]
        found += [{"start": start, "end": end, "value": code, "text": text[start:end]} for code in codes]
        i += size
    return found

