"""Saving, verifying and loading model version directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.runtime import artifacts
from training.runtime.artifacts import (
    ArtifactError,
    cleanup_temporary,
    load_version,
    save_version,
    verify_version,
)


@pytest.fixture
def saved(tiny_result, tmp_path: Path):
    return save_version(tiny_result, tmp_path / "models", "v1")


def test_save_writes_expected_files_and_loads(saved, tiny_result) -> None:
    names = {path.name for path in saved.path.iterdir()}
    assert names == {
        "model.pickle",
        "model.arrays",
        "labels.json",
        "metrics.json",
        "params.json",
        "manifest.json",
    }
    assert set(saved.manifest["files"]) == names - {"manifest.json"}
    assert saved.manifest["feature_set"] == "default"
    labels = json.loads((saved.path / "labels.json").read_text())
    assert labels["fine"]["0"] == tiny_result.classifier.labels["fine"][0]
    assert not [p for p in saved.path.parent.iterdir() if p.name.startswith(".tmp-")]
    loaded = load_version(saved.path)
    text = "How many radios are there?"
    assert loaded.predict(text) == tiny_result.classifier.predict(text)


def test_arrays_are_mapped_from_their_file_and_copied_on_write(saved, tiny_result) -> None:
    import numpy as np

    arrays = saved.path / "model.arrays"
    before = arrays.read_bytes()
    layout = saved.manifest["model_arrays"]
    assert layout and all(offset % artifacts.ARRAY_ALIGNMENT == 0 for offset, _ in layout)
    assert sum(length for _, length in layout) > len((saved.path / "model.pickle").read_bytes())
    loaded = load_version(saved.path)
    weights = loaded.fine_model.calibrated_classifiers_[0].estimator.coef_
    assert weights.base is not None and weights.flags.writeable
    expected = tiny_result.classifier.fine_model.calibrated_classifiers_[0].estimator.coef_
    assert np.array_equal(weights, expected)
    weights[...] = 0.0  # a private copy of the page, never the file
    assert arrays.read_bytes() == before
    assert load_version(saved.path).predict("Who is it?") == tiny_result.classifier.predict(
        "Who is it?"
    )


def test_a_model_that_answered_is_freed_with_its_mapped_arrays(saved) -> None:
    """A worker swaps models for as long as it lives: the old one must go, maps and all."""
    import gc
    import sys
    import weakref

    def mapped() -> int:
        maps = Path("/proc/self/maps")
        return maps.read_text().count(str(saved.path / "model.arrays")) if maps.exists() else 0

    before = mapped()
    loaded = load_version(saved.path)
    loaded.predict("How many radios are there?")
    gone = weakref.ref(loaded)
    vectorizers = [weakref.ref(transformer) for _, transformer in loaded.features.transformer_list]
    if sys.platform == "linux":
        assert mapped() > before
    del loaded
    gc.collect()
    assert gone() is None
    assert all(vectorizer() is None for vectorizer in vectorizers)
    assert mapped() == before


def test_a_version_with_everything_in_the_pickle_still_loads(saved, tiny_result) -> None:
    import hashlib
    import pickle
    import zlib

    earlier = saved.path.parent / "v-earlier"
    earlier.mkdir()
    data = zlib.compress(pickle.dumps(tiny_result.classifier, protocol=5), 3)
    (earlier / "model.pickle").write_bytes(data)
    manifest = json.loads((saved.path / "manifest.json").read_text())
    manifest["files"] = {
        "model.pickle": {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    }
    del manifest["model_arrays"]
    (earlier / "manifest.json").write_text(json.dumps(manifest))
    text = "How many radios are there?"
    assert load_version(earlier).predict(text) == tiny_result.classifier.predict(text)


def test_changed_arrays_or_a_layout_that_does_not_fit_are_refused(saved) -> None:
    arrays = saved.path / "model.arrays"
    data = bytearray(arrays.read_bytes())
    data[-1] ^= 0x01
    arrays.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"model\.arrays: checksum"):
        load_version(saved.path)
    data[-1] ^= 0x01
    arrays.write_bytes(bytes(data))
    manifest = json.loads((saved.path / "manifest.json").read_text())
    manifest["model_arrays"][-1][1] += 1
    (saved.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="layout does not fit"):
        load_version(saved.path)


def test_existing_version_is_not_overwritten(saved, tiny_result) -> None:
    with pytest.raises(ArtifactError, match="already exists"):
        save_version(tiny_result, saved.path.parent, "v1")


def test_one_changed_byte_is_refused(saved) -> None:
    model = saved.path / "model.pickle"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"model\.pickle: checksum"):
        load_version(saved.path)


def test_tampered_metadata_file_is_refused(saved) -> None:
    (saved.path / "labels.json").write_text("{}")
    with pytest.raises(ArtifactError, match=r"labels\.json"):
        verify_version(saved.path)


def test_missing_manifest_is_refused(saved) -> None:
    (saved.path / "manifest.json").unlink()
    with pytest.raises(ArtifactError, match="manifest missing"):
        load_version(saved.path)


def test_other_sklearn_version_is_refused(saved) -> None:
    manifest_path = saved.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["sklearn_version"] = "0.0.1"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="scikit-learn 0.0.1"):
        load_version(saved.path)


def test_failed_save_leaves_nothing_behind(tiny_result, tmp_path: Path, monkeypatch) -> None:
    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(artifacts.pickle, "dumps", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        save_version(tiny_result, tmp_path, "v2")
    assert list(tmp_path.iterdir()) == []


def test_cleanup_temporary(tmp_path: Path) -> None:
    (tmp_path / ".tmp-v3-abcd").mkdir()
    (tmp_path / ".tmp-v3-abcd" / "model.pickle").write_bytes(b"x")
    (tmp_path / "v1").mkdir()
    removed = cleanup_temporary(tmp_path)
    assert [path.name for path in removed] == [".tmp-v3-abcd"]
    assert [path.name for path in tmp_path.iterdir()] == ["v1"]
    assert cleanup_temporary(tmp_path / "absent") == []


def test_a_version_saved_with_joblib_still_loads(saved, tiny_result) -> None:
    import hashlib

    import joblib

    legacy = saved.path.parent / "v0"
    legacy.mkdir()
    joblib.dump(tiny_result.classifier, legacy / "model.joblib", compress=3)
    manifest = json.loads((saved.path / "manifest.json").read_text())
    data = (legacy / "model.joblib").read_bytes()
    manifest["files"] = {
        "model.joblib": {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    }
    del manifest["model_compression"]
    (legacy / "manifest.json").write_text(json.dumps(manifest))
    text = "How many radios are there?"
    assert load_version(legacy).predict(text) == tiny_result.classifier.predict(text)
