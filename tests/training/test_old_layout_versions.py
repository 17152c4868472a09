"""Versions stored before ``training/`` had subpackages still load and answer as they did.

The fixture (tests/fixtures/old_layout, written by make_fixture.py there with the flat package of
commit 61b03d4) holds a version as model.pickle with its arrays, the same model as a joblib
file, pickled parts of the optional tiers, and what the old code answered.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import sklearn

from training.question_features.extractors import QuestionFeatures
from training.runtime.artifacts import load_version, read_manifest
from training.runtime.estimators import LinearHead
from training.runtime.finetuned_classifier import NetworkHeads
from training.runtime.onnx_graph import StoredGraph
from training.runtime.predictor import QuestionClassifier
from training.runtime.sentence_encoder import OnnxEncoder, SentenceEmbeddings
from training.runtime.unpickling import MOVED_MODULES, current_path, loads

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "old_layout"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
VERSIONS = ["pickled", "joblib"]

same_scikit_learn = pytest.mark.skipif(
    read_manifest(FIXTURE / "pickled")["sklearn_version"] != sklearn.__version__,
    reason="the fixture was written with another scikit-learn, which load_version refuses",
)


def close(actual: object, expected: object, where: str = "") -> None:
    """Equal, floats to 1e-9 (another CPU may round the last bits otherwise)."""
    if isinstance(expected, float):
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12), where
    elif isinstance(expected, dict):
        assert set(actual) == set(expected), where
        for key in expected:
            close(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            close(a, e, f"{where}[{i}]")
    else:
        assert actual == expected, where


def test_the_fixture_names_the_old_module_paths() -> None:
    assert EXPECTED["model_globals"] == [
        "training.estimators.LinearHead",
        "training.features.QuestionFeatures",
        "training.predictor.QuestionClassifier",
        "training.text.preprocess",
    ]
    for name in EXPECTED["model_globals"] + EXPECTED["parts_globals"]:
        assert name.rsplit(".", 1)[0] in MOVED_MODULES


@same_scikit_learn
@pytest.mark.parametrize("version", VERSIONS)
def test_an_old_version_loads_and_answers_as_before(version: str) -> None:
    classifier = load_version(FIXTURE / version)
    assert type(classifier) is QuestionClassifier
    assert isinstance(classifier.features.transformer_list[2][1], QuestionFeatures)
    assert isinstance(classifier._fine_head, LinearHead)
    questions = EXPECTED["questions"]
    close([classifier.predict(text).to_dict() for text in questions], EXPECTED["predict"])
    close([p.to_dict() for p in classifier.predict_many(questions)], EXPECTED["predict_many"])
    coarse, fine = classifier._probabilities(classifier._transform(questions), questions)
    close(coarse.tolist(), EXPECTED["probabilities"]["coarse"], "coarse")
    close(fine.tolist(), EXPECTED["probabilities"]["fine"], "fine")


@same_scikit_learn
def test_loading_a_joblib_version_leaves_no_old_module_behind() -> None:
    load_version(FIXTURE / "joblib")
    assert not set(MOVED_MODULES) & set(sys.modules)


def test_the_optional_tiers_parts_load_from_their_old_paths() -> None:
    data = (FIXTURE / "parts.pickle").read_bytes()
    with pytest.raises(ModuleNotFoundError, match="training.embeddings"):
        pickle.loads(data)  # what plain unpickling makes of the old paths
    parts = loads(data)
    assert type(parts["sentence_embeddings"]) is SentenceEmbeddings
    assert parts["sentence_embeddings"].scale == 2.0
    encoder = parts["onnx_encoder"]
    assert type(encoder) is OnnxEncoder and isinstance(encoder, StoredGraph)
    assert (encoder.graph, encoder.precision) == (b"graph", "fp32")
    heads = parts["network_heads"]
    assert type(heads) is NetworkHeads
    assert heads.temperatures == (1.5, 2.5) and heads.marks is True
    assert heads.labels == (["HUM"], ["HUM:ind"])
    assert np.array_equal(heads.weights["w"], np.arange(3, dtype=np.float16))


def resolved(module: str, name: str) -> object:
    """What an old pickle's ``module.name`` loads as now."""
    home, name = current_path(module, name)
    return getattr(importlib.import_module(home), name)


def test_the_split_embeddings_module_maps_each_name_to_its_new_home() -> None:
    from training.runtime.extras import EmbeddingsUnavailable
    from training.tiers.embeddings import embedding_features

    assert resolved("training.embeddings", "SentenceEmbeddings") is SentenceEmbeddings
    assert resolved("training.embeddings", "OnnxEncoder") is OnnxEncoder
    assert resolved("training.embeddings", "StoredGraph") is StoredGraph
    assert resolved("training.embeddings", "EmbeddingsUnavailable") is EmbeddingsUnavailable
    assert resolved("training.embeddings", "embedding_features") is embedding_features
    assert resolved("training.finetuned", "NetworkHeads") is NetworkHeads
    assert current_path("sklearn.svm._classes", "LinearSVC") == (
        "sklearn.svm._classes", "LinearSVC"
    )
    assert current_path("training.taxonomy", "LabelInfo") == ("training.taxonomy", "LabelInfo")


def test_every_old_module_maps_to_modules_that_exist() -> None:
    for old, homes in MOVED_MODULES.items():
        assert importlib.util.find_spec(old) is None, f"{old} still exists"
        for home in homes:
            importlib.import_module(home)
