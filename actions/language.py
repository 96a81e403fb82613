"""Which language (fr, en or es) to answer in.

Lingua detects the language of a message; chat messages are often two or three words
("source ?", "OIM ?", "vale") where any detector is unsure, so below a confidence threshold a
small vote of very common French, English and Spanish words decides (a French question in the
inverted form, "es-tu", "est-ce", "a-t-il", counts as French: the verb and pronoun it shares with
Spanish or English count for those no more); with three languages Lingua's confidence is split
three ways, so a sentence of three words or more that it gives more than half to is also taken
when the vote is a tie. Otherwise the conversation keeps its current language (the previous
reply's, else the one the channel gave: page language, Telegram language_code). When there is
none yet, the text is the only evidence: Lingua's best guess is taken when it leads the others
by GUESS_MARGIN, and French, the assistant's first language, only when nothing tells at all
(a name, a number, an emoji in a new conversation).

`light=True` uses Lingua's low-accuracy mode (trigram models only, ~8 MB of memory instead of
~116 MB for the three languages; BENCHMARKS.md) after the common-word vote, which is surer than
those models on short texts. The Rasa server uses it for its few own notices (empty, too long,
unavailable) and WhatsApp's "reply with a number" line, so that one such message does not push
the server past its memory budget; the action server, which picks the language of every answer,
uses the full models.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Dict, List, Optional

from lingua import Language, LanguageDetectorBuilder

SUPPORTED = ("fr", "en", "es")
DEFAULT_LANGUAGE = "fr"
# Lingua's confidence needed to trust it; one- or two-word messages ("ok", "merci") need more.
CONFIDENT = 0.70
CONFIDENT_SHORT = 0.90
# Below CONFIDENT, still enough for a sentence of three words or more when the word vote is a tie.
MAJORITY = 0.50
# With no conversation language to keep, Lingua's best guess is taken when it leads the second
# language by this much ("where's HQ?": en 0.76; "report fraud": en 0.41 against fr 0.31).
GUESS_MARGIN = 0.10

_FRENCH_WORDS = frozenset(
    """
    le la les un une des du de au aux et ou est sont qui que quoi quel quelle quels quelles
    combien comment pourquoi quand depuis ou pour avec sans sur dans je tu il elle nous vous ils
    mon ma mes ton ta tes votre vos leur pas plus moins bonjour salut merci oui non svp stp
    c'est qu'est ce cest est-ce a t'es etes etait ont avez peux pouvez dites dis parle son
    """.split()
)
_ENGLISH_WORDS = frozenset(
    """
    the a an and or is are was were who what which when where why how many much since for with
    without on in of to i you he she it we they my your their not more less hello hi hey thanks
    thank thx bye goodbye yes no please does do did can could tell me about it's what's who's there this that
    help pls plz ty tysm cheers take care good morning evening night see ya later
    """.split()
)
# Written as people type them: without accents (the text is folded first), with common chat
# spellings (q, xq, pq, porfa) and voseo (sos, tenes, decime). Words shared with French ("que",
# "la", "de") or English ("no", "a") count for each language that has them, so only the others
# decide between those languages.
_SPANISH_WORDS = frozenset(
    """
    hola buenas buenos dias tardes noches gracias muchas si vale adios chao chau hasta luego
    que q quien quienes cual cuales cuando donde como cuanto cuantos cuantas por porque xq pq
    para con sin sobre el los las la lo una unos unas del al y es son esta estan eres soy hay
    tiene tienen mas pero mi mis tu su sus usted ustedes yo me te nos muy bien desde tambien
    puedo puede puedes quiero necesito ayuda ayudas ayudame fuente dime cuentame oye claro
    bueno entonces a se ya o ni tengo tienes estoy va voy tal serio acuerdo haces hace hacen
    porfa xfa favor saludos habla hablas sos vos tenes queres podes decime contame no de un
    """.split()
)
_WORD = re.compile(r"[a-z']+")
_FRENCH_PHRASES = re.compile(r"\btu es\b|\by a\b")
# French inverted questions: a verb, a hyphen and a subject pronoun ("es-tu", "est-ce",
# "peux-tu", "a-t-il", "avez-vous"). Neither English nor Spanish joins a verb to its pronoun so.
_FRENCH_INVERSION = re.compile(r"\b([a-z]+)-(?:t-)?(tu|vous|je|il|elle|on|nous|ils|elles|ce)\b")
_LINGUA_CODES = {Language.FRENCH: "fr", Language.ENGLISH: "en", Language.SPANISH: "es"}


@lru_cache(maxsize=2)
def _detector(light: bool = False):
    # Only the languages we answer in: smaller, faster and more accurate on short texts.
    builder = LanguageDetectorBuilder.from_languages(*_LINGUA_CODES)
    if light:
        return builder.with_low_accuracy_mode().build()
    # Every n-gram model at once when built (Lingua otherwise loads the longer n-grams on the
    # first long message, which then waits ~3 s): see preload().
    return builder.with_preloaded_language_models().build()


def preload() -> None:
    """Loads the full models now rather than on the first message, which would otherwise wait for
    them (~3 s for three languages on a busy 2-core machine: more than IOM_ACTION_TIMEOUT allows
    in the fault tests). The action server calls it at start."""
    _detector(False)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


def _word_votes(text: str) -> Dict[str, int]:
    """How many very common words of each language `text` has."""
    folded = _fold(text)
    words = _WORD.findall(folded)
    votes = {
        "fr": sum(1 for w in words if w in _FRENCH_WORDS or w.split("'")[0] in {"l", "d", "qu", "c", "j", "n", "s"}),
        "en": sum(1 for w in words if w in _ENGLISH_WORDS),
        "es": sum(1 for w in words if w in _SPANISH_WORDS),
    }
    # Spanish "es" (is) and "y" (and) are also French in "tu es" (you are) and "il y a" (there is).
    french_phrases = len(_FRENCH_PHRASES.findall(folded))
    votes["fr"] += french_phrases
    votes["es"] -= french_phrases
    # "Es-tu...?": French; its "es" and "tu" are not Spanish there, its "a" ("a-t-il") not English.
    for inversion in _FRENCH_INVERSION.finditer(folded):
        votes["fr"] += 1
        for word in inversion.groups():
            votes["es"] -= word in _SPANISH_WORDS
            votes["en"] -= word in _ENGLISH_WORDS
    return votes


def _leaders(votes: Dict[str, int]) -> List[str]:
    """The languages with the most common words; none when there is no common word at all."""
    best = max(votes.values())
    return [lang for lang, count in votes.items() if count == best] if best > 0 else []


def normalise_language(value: object) -> Optional[str]:
    """'fr-FR', 'EN', 'en_GB', 'es-419' -> 'fr'/'en'/'es'; anything else -> None."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED else None


_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
# A run of letters as long as a word of French, English or Spanish can be (the longest common
# ones have about 25 letters); anything longer is not a word of any of them.
_WORD_SIZED = re.compile(r"(?<![^\W\d_])[^\W\d_]{1,30}(?![^\W\d_])")


def _has_word(text: str) -> bool:
    """Whether the text has a word of three letters or more that is not an acronym (OIM, HQ)."""
    return any(len(word) >= 3 and word[1:].islower() for word in re.findall(r"[^\W\d_]+", text))


def _best_guess(confidences, among: List[str]) -> Optional[str]:
    """Lingua's first language among `among` (the word vote's leaders, else all three) when it
    leads the next one by GUESS_MARGIN, else None."""
    ranked = [(_LINGUA_CODES[c.language], c.value) for c in confidences or []]
    ranked = [(lang, value) for lang, value in ranked if lang in (among or SUPPORTED)]
    if not ranked or ranked[0][1] <= 0:
        return None
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    return ranked[0][0] if ranked[0][1] - second >= GUESS_MARGIN else None


def conversation_fallback(
    previous: object, channel_before: object, given: object
) -> Optional[str]:
    """The language for a message that does not show its own: the conversation's (the last
    reply's, `previous`), unless the channel's language (`given` with this message: the page's
    FR/EN/ES switch, Telegram's language_code) has just changed from `channel_before`, when the
    new channel language wins; in a new conversation, the channel's; None when neither is known."""
    previous, given = normalise_language(previous), normalise_language(given)
    if given and given != normalise_language(channel_before):
        return given
    return previous or given


def detect_language(text: str, fallback: Optional[str] = None, light: bool = False) -> str:
    """The language to reply in for `text`, given the conversation's current language (`fallback`:
    the last reply's, else the page's or platform's; None in a new conversation with neither)."""
    known = normalise_language(fallback)
    fallback = known or DEFAULT_LANGUAGE
    if not text or not text.strip() or text.lstrip().startswith("/"):
        # Empty, or a button payload such as /ask_history: says nothing about the language.
        return fallback
    sample = text[:500]
    if not _WORD_SIZED.search(sample):
        # No letters, or letters but no word: one run of hundreds ("aaaa...", a pasted key).
        # Lingua still gives such a run a language with confidence, and a notice in that language
        # reads as a wrong guess.
        return fallback
    if light:
        # The light models are unsure of short texts and of text without any common word: the
        # common-word vote goes first, and one or two words it cannot place, or a text without
        # any common word (gibberish, names), keep the conversation's language, if there is one.
        leaders = _leaders(_word_votes(sample))
        if len(leaders) == 1:
            return leaders[0]
        if known and (not leaders or len(sample.split()) < 3):
            return known
    confidences = _detector(light).compute_language_confidence_values(sample)
    best = confidences[0] if confidences else None
    threshold = CONFIDENT if len(sample.split()) >= 3 else CONFIDENT_SHORT
    if best is not None and best.value >= threshold:
        return _LINGUA_CODES[best.language]
    leaders = _leaders(_word_votes(sample))
    if len(leaders) == 1:
        return leaders[0]
    if (
        best is not None and best.value >= MAJORITY and len(sample.split()) >= 3
        and _LINGUA_CODES[best.language] in leaders
    ):
        # Three languages split the confidence: a sentence Lingua gives more than half to, whose
        # common words are as much that language's as any other's ("de la", "que"), is in it.
        # A sentence without any common word (gibberish, a list of names) keeps the language.
        return _LINGUA_CODES[best.language]
    if known:
        return known
    # A new conversation with no language from the channel: the text is all there is, so a clear
    # lead of Lingua's beats a fixed default ("where's HQ?" is not answered in French), if the
    # text has a written word at all (not only acronyms: "OIM", "IOM ?").
    if _has_word(sample):
        # Acronyms (IOM, OIM, UN, HQ) are the same in every language: the guess reads the rest.
        words = _ACRONYM.sub(" ", sample)
        if words.split() != sample.split():
            confidences = _detector(light).compute_language_confidence_values(words)
        return _best_guess(confidences, leaders) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE
