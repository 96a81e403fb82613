"""Rasa's LogisticRegressionClassifier with a cheaper feature matrix for each message.

Rasa 3.6 builds each message's row with `Message.get_sparse_features`, which deep-copies and
hstacks *all* sparse features of the text (sequence features too, which this classifier does not
use), then hstacks the sparse and dense sentence features and vstacks the rows: scipy bookkeeping
that was ~10% of the Rasa server's CPU under load (py-spy). The classifier only needs the sentence
features, side by side in the order the featurizers added them, followed by the dense ones; this
builds exactly that matrix from the features' arrays, so the predictions are the same.
"""

from __future__ import annotations

from typing import List

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import (
    LogisticRegressionClassifier as RasaLogisticRegressionClassifier,
)
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix


def sentence_row(message: Message):
    """(values, columns, width) of the message's sentence features: sparse ones first, then dense,
    each block in the order of `message.features` (the order Rasa combines them in)."""
    sparse = [f.features for f in message.features
              if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_sparse()]
    dense = [f.features for f in message.features
             if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_dense()]
    values, columns, width = [], [], 0
    for matrix in sparse:
        coo = matrix.tocoo()
        values.append(coo.data)
        columns.append(coo.col + width)
        width += coo.shape[1]
    for array in dense:
        row = np.asarray(array).reshape(-1)
        values.append(row)
        columns.append(np.arange(width, width + row.shape[0]))
        width += row.shape[0]
    if not values:
        return np.zeros(0), np.zeros(0, dtype=np.int64), 0
    return np.concatenate(values), np.concatenate(columns), width


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LogisticRegressionClassifier(RasaLogisticRegressionClassifier):
    def _create_X(self, messages: List[Message]) -> csr_matrix:
        rows = [sentence_row(message) for message in messages]
        width = max(row[2] for row in rows)
        indptr = np.cumsum([0] + [len(row[0]) for row in rows])
        return csr_matrix(
            (np.concatenate([row[0] for row in rows]),
             np.concatenate([row[1] for row in rows]), indptr),
            shape=(len(rows), width),
        )
