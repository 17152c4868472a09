"""The optional 'embeddings' feature set: light default path, clear errors, end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from training.question_features.extractors import FEATURE_SETS, build_features
from training.runtime import extras, sentence_encoder
from training.runtime.artifacts import ArtifactError, MissingExtraError, load_version, save_version
from training.settings import SETTINGS
from training.tiers import embeddings as embeddings_tier
from training.tiers.train import train_model

from helpers import run_listing_training_modules

needs_extra = pytest.mark.skipif(
    not extras.available(), reason="the 'embeddings' extra is not installed"
)


def test_feature_set_is_registered() -> None:
    assert "embeddings" in FEATURE_SETS
    names = [name for name, _ in build_features("embeddings").transformer_list]
    assert names == ["word", "char", "cues", "embeddings"]


def test_default_path_never_imports_torch(tmp_path) -> None:
    script = (
        "import pandas as pd\n"
        "from training.runtime.artifacts import load_version, save_version\n"
        "from training.tiers.train import train_model\n"
        "rows = [(f'Who invented the {w}?', 'HUM', 'HUM:ind') for w in 'abcdefghij']\n"
        "rows += [(f'What city has the {w}?', 'LOC', 'LOC:city') for w in 'abcdefghij']\n"
        "frame = pd.DataFrame(rows, columns=['text', 'coarse', 'fine'])\n"
        f"info = save_version(train_model(frame, quick=True), {str(tmp_path)!r}, 'v1')\n"
        "load_version(info.path).predict('Who built the bridge?')\n"
    )
    _, heavy = run_listing_training_modules(script)
    assert heavy == []


def _simulate_missing_extra(monkeypatch) -> None:
    """Pretend torch and sentence-transformers cannot be imported."""
    monkeypatch.setattr(
        extras, "missing_modules", lambda modules=(): ["torch", "sentence_transformers"]
    )
    monkeypatch.setattr(sentence_encoder, "_encoder", None)
    monkeypatch.setattr(sentence_encoder, "_model", None)


def test_fitting_without_the_extra_says_how_to_install(monkeypatch) -> None:
    _simulate_missing_extra(monkeypatch)
    assert not extras.available()
    with pytest.raises(extras.EmbeddingsUnavailable, match="run make embeddings"):
        sentence_encoder.SentenceEmbeddings().fit(["What is a bridge?"])


def test_loading_an_embeddings_version_without_the_extra(monkeypatch, tmp_path, tiny_result):
    # A default model saved under the embeddings feature set stands in for a real one.
    tiny_result.classifier.feature_set = "embeddings"
    try:
        info = save_version(tiny_result, tmp_path, "emb-v1")
    finally:
        tiny_result.classifier.feature_set = "default"
    assert info.manifest["feature_set"] == "embeddings"
    _simulate_missing_extra(monkeypatch)
    with pytest.raises(MissingExtraError, match="model version emb-v1 needs the 'embeddings'"):
        load_version(info.path)
    assert issubclass(MissingExtraError, ArtifactError)


def test_embeddings_transformer_is_picklable_without_the_model() -> None:
    import pickle

    restored = pickle.loads(pickle.dumps(sentence_encoder.SentenceEmbeddings(scale=2.0)))
    assert restored.scale == 2.0


@needs_extra
@pytest.mark.slow
def test_train_save_load_predict_with_embeddings(tmp_path, tiny_frame) -> None:
    block = sentence_encoder.SentenceEmbeddings().fit(["x"]).transform(["What is a bridge?"])
    assert block.shape == (1, sentence_encoder.DIMENSIONS)
    result = train_model(tiny_frame, quick=True, features="embeddings")
    assert result.params["feature_set"] == "embeddings"
    info = save_version(result, tmp_path, "emb")
    classifier = load_version(info.path)
    prediction = classifier.predict("Which city is home to the largest museum?")
    assert prediction.coarse == "LOC"
    assert prediction.fine.startswith("LOC:")


@needs_extra
@pytest.mark.slow
def test_stored_encoder_matches_sentence_transformers_and_serves_without_torch(
    tmp_path, tiny_frame
) -> None:
    questions = ["Who painted the Mona Lisa?", "How far is the Moon?", "What does NATO mean?"]
    encoder = embeddings_tier.onnx_encoder()
    ours = encoder.encode(questions)
    theirs = sentence_encoder._legacy_encode(questions)
    # The exported graph gives sentence-transformers' vectors.
    cosines = (ours * theirs).sum(axis=1)
    assert ours.shape == (3, sentence_encoder.DIMENSIONS) and cosines.min() > 0.9999, cosines
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-3)

    result = train_model(tiny_frame, quick=True, features="embeddings")
    info = save_version(result, tmp_path, "emb-onnx")
    assert info.manifest["encoder"] == f"onnx-fp32 sha256:{encoder.digest}"
    expected = result.classifier.predict("Which river flows through Paris?").to_dict()
    script = (
        "import json\n"
        "from training.runtime.artifacts import load_version\n"
        f"classifier = load_version({str(info.path)!r})\n"
        "classifier.prepare()\n"
        "print(json.dumps(classifier.predict('Which river flows through Paris?').to_dict()))\n"
    )
    output, heavy = run_listing_training_modules(script)
    served = json.loads(output[-1])
    assert heavy == []
    assert served["fine"] == expected["fine"]
    assert served["fine_confidence"] == pytest.approx(expected["fine_confidence"], abs=1e-4)


def test_a_stored_encoder_needs_only_its_runtime(monkeypatch, tmp_path, tiny_result) -> None:
    tiny_result.classifier.feature_set = "embeddings"
    try:
        info = save_version(tiny_result, tmp_path, "emb-v2")
    finally:
        tiny_result.classifier.feature_set = "default"
    manifest = json.loads((info.path / "manifest.json").read_text())
    assert manifest["encoder"] is None  # this stand-in stores none: the whole extra is needed
    missing = {"onnxruntime"}
    monkeypatch.setattr(
        extras, "missing_modules", lambda modules=(): [m for m in modules if m in missing]
    )
    assert not extras.serving_available() and not extras.available()
    with pytest.raises(extras.EmbeddingsUnavailable, match="run make embeddings"):
        sentence_encoder.OnnxEncoder(b"", "{}").prepare()


@needs_extra
def test_training_vectors_are_kept_between_processes(tmp_path, monkeypatch) -> None:
    encoder = embeddings_tier.onnx_encoder()
    monkeypatch.setattr(SETTINGS, "encoder_cache_dir", str(tmp_path))
    questions = ["Who wrote Hamlet?", "What is the speed of light?"]
    first = sentence_encoder.encode(questions, encoder)
    assert (tmp_path / f"vectors-{encoder.digest[:32]}.joblib").exists()
    sentence_encoder.clear_cache()  # as in a new process

    def must_not_encode(texts):
        raise AssertionError(f"encoded {texts} again")

    monkeypatch.setattr(encoder, "encode", must_not_encode)
    assert np.array_equal(sentence_encoder.encode(questions, encoder), first)
