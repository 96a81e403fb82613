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

A component that reads the sparse per-token features of the text (DIETClassifier and its
ResponseSelector; TEDPolicy and UnexpecTEDIntentPolicy with end-to-end stories) would get none from
this featurizer. With no other token features at all DIET stops with an obscure error; with some
from another featurizer (RegexFeaturizer, LexicalSyntacticFeaturizer) it trains, silently, without
the words. So training refuses a configuration that has one (`create`, called for training only),
naming it and what to do: use Rasa's `CountVectorsFeaturizer` there instead. (CRFEntityExtractor
reads only dense token features, which count vectors never were.) Checked before training by
server/rasa_cli.py (`make train`: `refuse_configuration`, whatever Rasa's training cache holds: a
cached featurizer is never created again), when the featurizer is trained (`create`, for plain
`rasa train`) and when a model is loaded (`load`: a model trained that way is not served).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.exceptions import InvalidConfigException

# Rasa's components that read the text's sparse per-token (sequence) features, by class name (so
# that checking does not import TensorFlow); their subclasses (ResponseSelector is a
# DIETClassifier, UnexpecTEDIntentPolicy a TEDPolicy) too.
TOKEN_FEATURE_READERS = ("DIETClassifier", "TEDPolicy")


def token_feature_readers(schema: GraphSchema) -> List[Text]:
    """The graph's nodes whose component reads per-token features: "node (Class)"."""
    return [
        f"{name} ({node.uses.__name__})"
        for name, node in schema.nodes.items()
        if any(klass.__name__ in TOKEN_FEATURE_READERS for klass in node.uses.__mro__)
    ]


def _refuse(schema: GraphSchema) -> None:
    uses_us = any(issubclass(node.uses, SentenceCountVectorsFeaturizer) for node in schema.nodes.values())
    readers = token_feature_readers(schema) if uses_us else []
    if readers:
        name = SentenceCountVectorsFeaturizer.__name__
        raise InvalidConfigException(
            f"{name} (components/sentence_featurizer.py) makes no per-token features of the "
            f"text, and this configuration has components that read them: "
            f"{', '.join(sorted(readers))}. They would train without them. Use Rasa's "
            f"CountVectorsFeaturizer (same options) in config.yml instead of "
            f"{SentenceCountVectorsFeaturizer.__module__}.{name}."
        )


def refuse_configuration(config_file: Text) -> None:
    """Raises InvalidConfigException when the configuration in `config_file` combines this
    featurizer with a component that reads per-token features (its training graph, built by
    Rasa's recipe: the component classes as training would use them)."""
    from rasa.shared.data import TrainingType
    from rasa.shared.importers.importer import TrainingDataImporter

    try:
        config = TrainingDataImporter.load_from_config(config_file).get_config()
        if config.get("recipe", "default.v1") != "default.v1":
            return
        schema = DefaultV1Recipe().graph_config_for_recipe(config, {}, TrainingType.BOTH).train_schema
    except Exception:  # a configuration Rasa cannot read: Rasa's own training says why
        return
    _refuse(schema)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CountVectorsFeaturizer:
        _refuse(execution_context.graph_schema)
        return super().create(config, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CountVectorsFeaturizer:
        _refuse(execution_context.graph_schema)
        return super().load(config, model_storage, resource, execution_context, **kwargs)

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
