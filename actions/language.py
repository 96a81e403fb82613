"""Which language (fr or en) to answer in.

Lingua detects the language of a message; chat messages are often two or three words
("source ?", "OIM ?") where any detector is unsure, so below a confidence threshold a small vote
of very common French and English words decides, and if that is a tie too the conversation keeps
its current language (the previous reply's, else the one the channel gave: page language,
Telegram language_code), else French, the assistant's first language.

`light=True` uses Lingua's low-accuracy mode (trigram models only, ~4 MB of memory instead of
~86 MB) after the common-word vote, which is surer than those models on short texts. The Rasa
server uses it for its few own notices (empty, too long, unavailable), so that one such message
does not push the server past its memory budget (BENCHMARKS.md); the action server, which picks
the language of every answer, uses the full models.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Optional

from lingua import Language, LanguageDetectorBuilder

SUPPORTED = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
# Lingua's confidence needed to trust it; one- or two-word messages ("ok", "merci") need more.
CONFIDENT = 0.70
CONFIDENT_SHORT = 0.90

_FRENCH_WORDS = frozenset(
    """
    le la les un une des du de au aux et ou est sont qui que quoi quel quelle quels quelles
    combien comment pourquoi quand depuis ou pour avec sans sur dans je tu il elle nous vous ils
    mon ma mes ton ta tes votre vos leur pas plus moins bonjour salut merci oui non svp stp
    c'est qu'est ce cest est-ce y a t'es etes etait ont avez peux pouvez dites dis parle
    """.split()
)
_ENGLISH_WORDS = frozenset(
    """
    the a an and or is are was were who what which when where why how many much since for with
    without on in of to i you he she it we they my your their not more less hello hi hey thanks
    thank thx bye goodbye yes no please does do did can could tell me about it's what's who's there this that
    """.split()
)
_WORD = re.compile(r"[a-z']+")
_LINGUA_CODES = {Language.FRENCH: "fr", Language.ENGLISH: "en"}


@lru_cache(maxsize=2)
def _detector(light: bool = False):
    # Only the two languages we answer in: smaller, faster and more accurate on short texts.
    builder = LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH)
    if light:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


def _word_vote(text: str) -> Optional[str]:
    words = _WORD.findall(_fold(text))
    french = sum(1 for w in words if w in _FRENCH_WORDS or w.split("'")[0] in {"l", "d", "qu", "c", "j", "n", "s"})
    english = sum(1 for w in words if w in _ENGLISH_WORDS)
    if french > english:
        return "fr"
    if english > french:
        return "en"
    return None


def normalise_language(value: object) -> Optional[str]:
    """'fr-FR', 'EN', 'en_GB' -> 'fr'/'en'; anything else -> None."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED else None


def detect_language(text: str, fallback: Optional[str] = None, light: bool = False) -> str:
    """The language to reply in for `text`, given the conversation's current language."""
    fallback = normalise_language(fallback) or DEFAULT_LANGUAGE
    if not text or not text.strip() or text.lstrip().startswith("/"):
        # Empty, or a button payload such as /ask_history: says nothing about the language.
        return fallback
    sample = text[:500]
    if not any(c.isalpha() for c in sample):
        return fallback
    if light:
        # The light models are unsure of short texts: the common-word vote goes first, and one or
        # two words it cannot place keep the conversation's language.
        vote = _word_vote(sample)
        if vote or len(sample.split()) < 3:
            return vote or fallback
    confidences = _detector(light).compute_language_confidence_values(sample)
    best = confidences[0] if confidences else None
    threshold = CONFIDENT if len(sample.split()) >= 3 else CONFIDENT_SHORT
    if best is not None and best.value >= threshold:
        return _LINGUA_CODES[best.language]
    return _word_vote(sample) or fallback
