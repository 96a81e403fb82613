"""components/sentence_featurizer.py makes no per-token features: training refuses a configuration
whose components read them (they would silently train on less), and accepts ours."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema, SchemaNode
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.data import TrainingType
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.importers.importer import TrainingDataImporter

from components.sentence_featurizer import (
    SentenceCountVectorsFeaturizer,
    refuse_configuration,
    token_feature_readers,
)
from tests.servers import BIN, ROOT

FEATURIZER = "components.sentence_featurizer.SentenceCountVectorsFeaturizer"
NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - bonjour
    - salut à vous
    - bonsoir
- intent: goodbye
  examples: |
    - au revoir
    - à bientôt
    - bonne soirée
"""


def test_training_refuses_a_pipeline_that_reads_token_features(tmp_path):
    """`rasa train nlu` as `make train` runs it, with DIETClassifier after our featurizer and
    another that gives some token features (without this refusal DIET trains on those alone,
    silently: checked): it stops before training anything and says what to use instead, whatever
    Rasa's training cache holds."""
    config = {
        "recipe": "default.v1", "language": "fr", "assistant_id": "test",
        "pipeline": [{"name": "WhitespaceTokenizer"}, {"name": "LexicalSyntacticFeaturizer"},
                     {"name": FEATURIZER}, {"name": "DIETClassifier", "epochs": 1}],
        "policies": [],
    }
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "nlu.yml").write_text(NLU)
    result = subprocess.run(
        [str(BIN / "python"), "-m", "server.rasa_cli", "train", "nlu", "--config",
         str(tmp_path / "config.yml"), "--nlu", str(tmp_path / "nlu.yml"), "--out",
         str(tmp_path / "models"), "--fixed-model-name", "refused"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3",
             "RASA_CACHE_DIRECTORY": str(tmp_path / "cache")},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert ("Not training: SentenceCountVectorsFeaturizer (components/sentence_featurizer.py) "
            "makes no per-token features") in output, output[-3000:]
    assert "DIETClassifier" in output and "Use Rasa's CountVectorsFeaturizer" in output
    assert not (tmp_path / "models" / "refused.tar.gz").exists()


class DIETClassifier:  # named like Rasa's: the rule goes by class name, without TensorFlow
    pass


class MyClassifier(DIETClassifier):
    pass


def schema(*classes) -> GraphSchema:
    return GraphSchema({
        f"node_{index}": SchemaNode(needs={}, uses=cls, constructor_name="create", fn="train",
                                    config={})
        for index, cls in enumerate(classes)
    })


def test_a_subclass_of_a_token_feature_reader_is_named_too():
    assert token_feature_readers(schema(SentenceCountVectorsFeaturizer, MyClassifier)) == [
        "node_1 (MyClassifier)"]
    assert token_feature_readers(schema(SentenceCountVectorsFeaturizer)) == []


def test_the_featurizer_refuses_to_be_trained_or_loaded_beside_one(tmp_path):
    """Plain `rasa train` (no pre-check) creates the featurizer; serving loads it."""
    config = SentenceCountVectorsFeaturizer.get_default_config()
    storage, resource = LocalModelStorage(tmp_path), Resource("featurizer")
    refused = ExecutionContext(schema(SentenceCountVectorsFeaturizer, MyClassifier))
    with pytest.raises(InvalidConfigException, match="node_1 \\(MyClassifier\\)"):
        SentenceCountVectorsFeaturizer.create(config, storage, resource, refused)
    with pytest.raises(InvalidConfigException, match="makes no per-token features"):
        SentenceCountVectorsFeaturizer.load(config, storage, resource, refused)
    alone = ExecutionContext(schema(SentenceCountVectorsFeaturizer))
    assert SentenceCountVectorsFeaturizer.create(config, storage, resource, alone)


def test_our_own_configuration_is_accepted():
    refuse_configuration(str(ROOT / "config.yml"))  # raises if refused
    config = TrainingDataImporter.load_from_config(str(ROOT / "config.yml")).get_config()
    graph = DefaultV1Recipe().graph_config_for_recipe(config, {}, TrainingType.BOTH)
    assert token_feature_readers(graph.train_schema) == []
    assert any(node.uses is SentenceCountVectorsFeaturizer for node in graph.train_schema.nodes.values())
