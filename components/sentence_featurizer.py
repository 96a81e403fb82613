"""Rasa's CountVectorsFeaturizer without the per-token (sequence) features of the text.

For the text of a message Rasa 3.6 computes two things with the fitted CountVectorizer: one row
per token (sequence features, used by DIET-style components for entities) and one row for the
whole text (sentence features). Our pipeline's only consumer is the logistic regression
classifier, which reads sentence features alone (components/intent_classifier.py); the entity
extractors are regex/lookup based. Vectorising every token separately was half of the
featurizers' cost, ~4% of the Rasa server's CPU under load (py-spy). The sentence row is computed
exactly as Rasa does (the tokens joined by spaces), so the classifier's input is unchanged.
Attributes without sentence features (intent and action names, used when training) keep Rasa's
behaviour.
"""

from __future__ import annotations

from typing import List, Optional, Text, Tuple

import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    def _create_features(
        self, attribute: Text, all_tokens: List[List[Text]]
    ) -> Tuple[List[Optional[scipy.sparse.spmatrix]], List[Optional[scipy.sparse.spmatrix]]]:
        if attribute not in DENSE_FEATURIZABLE_ATTRIBUTES or not self.vectorizers.get(attribute):
            return super()._create_features(attribute, all_tokens)
        sentence_features: List[Optional[scipy.sparse.spmatrix]] = []
        for tokens in all_tokens:
            if not tokens:
                sentence_features.append(None)
                continue
            sentence_vec = self.vectorizers[attribute].transform([" ".join(tokens)])
            sentence_vec.sort_indices()
            sentence_features.append(sentence_vec.tocoo())
        return [None] * len(all_tokens), sentence_features
