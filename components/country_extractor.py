"""NLU component: finds country names (French or English) and maps each to its ISO 3166 code.

Names come from well-kept libraries rather than a hand-made list: the everyday names of the
Unicode CLDR (Babel: "Russie", "Russia", "Côte d'Ivoire") and the ISO 3166 names with their French
translations (pycountry: "Russian Federation", "Fédération de Russie"). Matching ignores case,
accents, hyphens and apostrophes, prefers the longest name ("Guinée-Bissau" over "Guinée"), and
only ever reports whole words. The entity is `country`, its value the alpha-2 code ("FR").
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text, Tuple

import pycountry
from babel import Locale

# Common short forms that neither library lists. Upper-case ones only count when written in
# capitals, so "us" in "tell us" is never the United States.
ALIASES = {
    "etats unis d'amerique": "US", "etats unis": "US", "united states of america": "US",
    "amerique": "US", "america": "US", "angleterre": "GB", "england": "GB",
    "grande bretagne": "GB", "great britain": "GB", "britain": "GB", "hollande": "NL",
    "holland": "NL", "russie": "RU", "republique democratique du congo": "CD", "coree": "KR",
    "korea": "KR", "cote d'ivoire": "CI", "ivory coast": "CI", "turkey": "TR", "turquie": "TR",
}
UPPERCASE_ALIASES = {"USA": "US", "US": "US", "UK": "GB", "UAE": "AE", "EAU": "AE", "RDC": "CD", "DRC": "CD", "RCA": "CF"}
MAX_NAME_WORDS = 8


def fold(text: str) -> str:
    """Lower case, no accents, apostrophes/hyphens/punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^\w]+", " ", plain.replace("’", "'")).strip()


def _iso_french_name(translate, name: str) -> str:
    translated = translate(name)
    # ISO lists some names inverted: "Russie, Fédération de" -> "Fédération de Russie".
    if ", " in translated:
        head, tail = translated.split(", ", 1)
        translated = f"{tail} {head}"
    return translated


@lru_cache(maxsize=1)
def name_index() -> Dict[Tuple[str, ...], str]:
    """Folded name (as a word tuple) -> alpha-2 code, for every ISO 3166 country."""
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"]).gettext
    cldr = {lang: Locale(lang).territories for lang in ("fr", "en")}
    index: Dict[Tuple[str, ...], str] = {}

    def add(name: Optional[str], code: str) -> None:
        if name:
            words = tuple(fold(name).split())
            if words and len(words) <= MAX_NAME_WORDS:
                index.setdefault(words, code)

    for country in pycountry.countries:
        code = country.alpha_2
        for lang in ("fr", "en"):
            add(cldr[lang].get(code), code)
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            add(value, code)
            if value:
                add(_iso_french_name(french, value), code)
    for alias, code in ALIASES.items():
        add(alias, code)
    return index


def find_countries(text: str) -> List[Dict[str, Any]]:
    """Countries named in `text`: [{"start", "end", "value", "text"}], longest match first."""
    if not text:
        return []
    index = name_index()
    # Words of the original text with their spans; folding a word never changes word boundaries
    # except for apostrophes and hyphens, which split it (l'Algérie -> l, algerie).
    spans = [(m.start(), m.end()) for m in re.finditer(r"[^\W_]+", text)]
    folded = [fold(text[s:e]) for s, e in spans]
    found: List[Dict[str, Any]] = []
    i = 0
    while i < len(spans):
        match = None
        for size in range(min(MAX_NAME_WORDS, len(spans) - i), 0, -1):
            words = tuple(folded[i : i + size])
            code = index.get(words)
            if code is None and size == 1:
                code = UPPERCASE_ALIASES.get(text[spans[i][0] : spans[i][1]])
            if code:
                match = (size, code)
                break
        if match:
            size, code = match
            start, end = spans[i][0], spans[i + size - 1][1]
            found.append({"start": start, "end": end, "value": code, "text": text[start:end]})
            i += size
        else:
            i += 1
    return found


try:  # The Rasa component; the matching above is importable without Rasa for tests.
    from rasa.engine.graph import ExecutionContext, GraphComponent
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.engine.storage.resource import Resource
    from rasa.engine.storage.storage import ModelStorage
    from rasa.nlu.extractors.extractor import EntityExtractorMixin
    from rasa.shared.nlu.constants import ENTITIES, TEXT
    from rasa.shared.nlu.training_data.message import Message
except ImportError:  # pragma: no cover - only without Rasa installed
    pass
else:

    @DefaultV1Recipe.register(
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
    )
    class CountryEntityExtractor(GraphComponent, EntityExtractorMixin):
        """Adds a `country` entity (ISO alpha-2 code) for each country name in the message."""

        @classmethod
        def create(
            cls,
            config: Dict[Text, Any],
            model_storage: ModelStorage,
            resource: Resource,
            execution_context: ExecutionContext,
        ) -> "CountryEntityExtractor":
            name_index()  # build once at load, not on the first message
            return cls()

        def process(self, messages: List[Message]) -> List[Message]:
            for message in messages:
                entities = [
                    {
                        "entity": "country",
                        "value": found["value"],
                        "start": found["start"],
                        "end": found["end"],
                        "confidence_entity": 1.0,
                        "extractor": "CountryEntityExtractor",
                    }
                    for found in find_countries(message.get(TEXT) or "")
                ]
                if entities:
                    message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
            return messages
