"""Country names in French, English and Spanish -> ISO 3166-1 alpha-2 codes; which codes are states.

Names come from well-kept libraries rather than a hand-made list: the everyday names of the
Unicode CLDR in fr, en and es (Babel: "Russie", "Russia", "Rusia") and the ISO 3166 names with
their French and Spanish translations (pycountry: "Russian Federation", "Fédération de Russie",
"Rusia, Federación de"), plus the short forms people type that neither lists (ALIASES: "UK",
"EE. UU.", "RDC", "Ivory Coast", "Saint-Siège"...) and the IOM list's own spellings
(components/country_words.yml). Matching
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
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple

import pycountry
import yaml
from babel import Locale

LANGUAGES = ("fr", "en", "es")
ISO_CODES = frozenset(country.alpha_2 for country in pycountry.countries)
# The tables of names and words (components/country_words.yml): data an editor can read, beside the
# code that reads them.
WORDS_FILE = Path(__file__).with_name("country_words.yml")
_WORDS: Dict[str, Any] = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
# ISO 3166-1 codes that are not member or observer states of the United Nations.
NOT_UN_STATES = frozenset(_WORDS["not_un_states"])
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
    name: () if codes == "none" else tuple(codes.split())
    for codes, names in _WORDS["aliases"].items()
    for name in names
}
# Written in capitals only ("us" in "tell us" is not the United States; "EAU" is not water).
UPPERCASE_ALIASES: Dict[str, str] = dict(_WORDS["uppercase_aliases"])


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


def _phrases(phrases: Iterable[str]) -> FrozenSet[Tuple[str, ...]]:
    return frozenset(tuple(p.split()) for p in phrases)


# Words that show a message is about states and IOM membership.
MEMBERSHIP_WORDS = frozenset(_WORDS["membership"])
FOOD = frozenset(_WORDS["food"])
RIVER = _phrases(_WORDS["river"])
_LISTS = {"@membership": MEMBERSHIP_WORDS, "@food": FOOD, "@river": RIVER}
_PHRASE_FIELDS = ("prev", "place")


def _common_word(fields: Dict[str, Any]) -> CommonWord:
    values: Dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, bool):
            values[name] = value
        elif isinstance(value, str):
            values[name] = _LISTS[value]
        else:
            values[name] = _phrases(value) if name in _PHRASE_FIELDS else frozenset(value)
    return CommonWord(**values)


COMMON_WORDS: Dict[Tuple[str, ...], CommonWord] = {
    tuple(name.split()): _common_word(fields) for name, fields in _WORDS["common_words"].items()
}
NAME_CUES = _phrases(_WORDS["name_cues"])
NAME_CUES_NEXT = frozenset(_WORDS["name_cues_next"])
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

