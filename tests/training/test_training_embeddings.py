"""The optional 'embeddings' feature set: light default path, clear errors, end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from training import embeddings
from training.artifacts import ArtifactError, MissingExtraError, load_version, save_version
from training.features import FEATURE_SETS, build_features
from training.train import train_model

REPO_ROOT = Path(__file__).resolve().parents[2]

needs_extra = pytest.mark.skipif(
    not embeddings.available(), reason="the 'embeddings' extra is not installed"
)


def test_feature_set_is_registered() -> None:
    assert "embeddings" in FEATURE_SETS
    names = [name for name, _ in build_features("embeddings").transformer_list]
    assert names == ["word", "char", "cues", "embeddings"]


def test_default_path_never_imports_torch(tmp_path) -> None:
    script = (
        "import sys\n"
        "import pandas as pd\n"
        "from training.artifacts import load_version, save_version\n"
        "from training.train import train_model\n"
        "rows = [(f'Who invented the {w}?', 'HUM', 'HUM:ind') for w in 'abcdefghij']\n"
        "rows += [(f'What city has the {w}?', 'LOC', 'LOC:city') for w in 'abcdefghij']\n"
        "frame = pd.DataFrame(rows, columns=['text', 'coarse', 'fine'])\n"
        f"info = save_version(train_model(frame, quick=True), {str(tmp_path)!r}, 'v1')\n"
        "load_version(info.path).predict('Who built the bridge?')\n"
        "heavy = {'torch', 'sentence_transformers', 'transformers'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _simulate_missing_extra(monkeypatch) -> None:
    """Pretend torch and sentence-transformers cannot be imported."""
    monkeypatch.setattr(embeddings, "missing_modules", lambda: ["torch", "sentence_transformers"])
    monkeypatch.setattr(embeddings, "_model", None)


def test_fitting_without_the_extra_says_how_to_install(monkeypatch) -> None:
    _simulate_missing_extra(monkeypatch)
    assert not embeddings.available()
    with pytest.raises(embeddings.EmbeddingsUnavailable, match="run make embeddings"):
        embeddings.SentenceEmbeddings().fit(["What is a bridge?"])


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

    restored = pickle.loads(pickle.dumps(embeddings.SentenceEmbeddings(scale=2.0)))
    assert restored.scale == 2.0


@needs_extra
@pytest.mark.slow
def test_train_save_load_predict_with_embeddings(tmp_path, tiny_frame) -> None:
    block = embeddings.SentenceEmbeddings().fit(["x"]).transform(["What is a bridge?"])
    assert block.shape == (1, embeddings.DIMENSIONS)
    result = train_model(tiny_frame, quick=True, features="embeddings")
    assert result.params["feature_set"] == "embeddings"
    info = save_version(result, tmp_path, "emb")
    classifier = load_version(info.path)
    prediction = classifier.predict("Which city is home to the largest museum?")
    assert prediction.coarse == "LOC"
    assert prediction.fine.startswith("LOC:")
