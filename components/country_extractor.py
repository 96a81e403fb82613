"""NLU component: the `country` entity (ISO 3166-1 alpha-2 code, "FR") for each country named.

The matching lives in components/countries.py (French, English and Spanish names from Babel's CLDR
data and pycountry's ISO 3166 names, short forms, and the rules for names that are also common
words: "guinea pig", "prochaine réunion", "turkey recipe"), which imports nothing of Rasa, so the
action server and the tests use it too.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.countries import find_countries, name_index


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
