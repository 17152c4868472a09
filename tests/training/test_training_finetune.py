"""The fine-tuned tier: trained briefly, saved, reloaded and served without torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.data.datasets import load_dataset
from training.question_features.extractors import FEATURE_SETS
from training.runtime import extras
from training.runtime.artifacts import load_version, save_version
from training.runtime.finetuned_classifier import FEATURE_SET, FinetunedClassifier, NetworkHeads
from training.settings import SETTINGS, configure
from training.tiers import finetuned as finetuned_tier
from training.tiers.refit import refit_model
from training.tiers.train import train_model

from helpers import run_listing_training_modules

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTER = REPO_ROOT / "training" / "data" / "starter.csv"

needs_extra = pytest.mark.skipif(
    not (extras.available() and not extras.missing_modules(("transformers",))),
    reason="the 'embeddings' extra is not installed",
)


def test_feature_set_is_registered() -> None:
    assert FEATURE_SET in FEATURE_SETS


def test_training_without_the_extra_says_how_to_install(monkeypatch, tiny_frame) -> None:
    monkeypatch.setattr(extras, "missing_modules", lambda modules=(): ["torch"])
    with pytest.raises(extras.EmbeddingsUnavailable, match="run make embeddings"):
        train_model(tiny_frame, features=FEATURE_SET)


def test_the_epochs_planned_are_those_that_fit_the_time_budget(monkeypatch) -> None:
    """A slow machine plans fewer epochs (so the learning rate still decays to zero in time)."""
    from training.tiers import torch_network

    monkeypatch.setattr(torch_network, "TIME_BUDGET", 660.0)
    assert torch_network._epochs_within(100.0, 0.0, 0, 4) == 4  # 400 s: all four fit
    assert torch_network._epochs_within(200.0, 0.0, 0, 4) == 3  # 600 s fit, 800 s would not
    assert torch_network._epochs_within(500.0, 0.0, 0, 4) == 1  # always at least one
    # Re-planned after two epochs that took 250 s each: a third would end at 750 s.
    assert torch_network._epochs_within(250.0, 500.0, 2, 4) == 2
    # ... and never below the epochs already done, even past the budget.
    assert torch_network._epochs_within(400.0, 800.0, 2, 4) == 2


def test_validation_rows_come_from_every_class_with_three_rows() -> None:
    import numpy as np

    fine = np.array(["a"] * 20 + ["b"] * 3 + ["c"] * 2)
    fit, validation = finetuned_tier.validation_split(fine, seed=0)
    assert sorted(set(fine[validation])) == ["a", "b"]
    assert len(validation) == 3  # two of twenty, one of three; never one of two
    assert sorted(np.concatenate([fit, validation]).tolist()) == list(range(len(fine)))


@pytest.fixture(scope="module")
def brief_run(tmp_path_factory):
    """One epoch on 300 starter questions, saved as a version."""
    if not STARTER.is_file():
        pytest.skip("training/data/starter.csv is not present")
    frame = load_dataset(STARTER).frame.sample(300, random_state=0).reset_index(drop=True)
    result = finetuned_tier.train_finetuned(frame, seed=0, max_epochs=1)
    info = save_version(result, tmp_path_factory.mktemp("models"), "ft-v1")
    return frame, result, info


@pytest.mark.slow
@needs_extra
def test_a_saved_version_reloads_and_predicts_identically(brief_run) -> None:
    frame, result, info = brief_run
    assert info.manifest["feature_set"] == FEATURE_SET
    assert info.manifest["encoder"].startswith("onnx-")
    network = result.params["network"]
    assert len(network["epochs"]) == 1
    assert 0.0 <= network["weight"] <= 1.0
    assert set(network["validation_ece"]) == {"coarse", "fine"}
    loaded = load_version(info.path)
    assert isinstance(loaded, FinetunedClassifier)
    assert loaded.network.marks is True
    questions = list(frame["text"][:40]) + ["What is SAP?", "Who wrote Hamlet?"]
    before = [p.to_dict() for p in result.classifier.predict_many(questions)]
    after = [p.to_dict() for p in loaded.predict_many(questions)]
    assert after == before
    single = loaded.predict(questions[0]).to_dict()
    assert single["fine"] == before[0]["fine"]
    assert single["fine_confidence"] == pytest.approx(before[0]["fine_confidence"], abs=1e-6)
    for prediction in after:
        assert prediction["fine"].startswith(prediction["coarse"] + ":")
    labels = loaded.predict_labels(questions)
    assert labels.fine == [p["fine"] for p in after]


@pytest.mark.slow
@needs_extra
def test_a_network_stored_before_acronym_marks_reads_questions_unmarked(brief_run) -> None:
    _, result, _ = brief_run
    network = result.classifier.network
    state = network.__getstate__()
    del state["marks"]  # as pickled by versions from before the marks
    old = NetworkHeads.__new__(NetworkHeads)
    old.__setstate__(state)
    assert old.marks is False
    marked, unmarked = network.logits(["What is SAP?"]), old.logits(["What is SAP?"])
    assert not np.allclose(marked[1], unmarked[1])
    assert np.allclose(old.logits(["What is a bridge?"])[1],
                       network.logits(["What is a bridge?"])[1])


@pytest.mark.slow
@needs_extra
def test_a_version_is_served_without_torch(brief_run) -> None:
    _, _, info = brief_run
    script = (
        "from training.runtime.artifacts import load_version\n"
        f"model = load_version({str(info.path)!r})\n"
        "model.prepare()\n"
        "print(model.predict('Who built the bridge?').fine)\n"
    )
    _, heavy = run_listing_training_modules(script)
    assert heavy == []


@pytest.mark.slow
@needs_extra
def test_a_refit_continues_from_the_active_weights(brief_run, monkeypatch) -> None:
    from training.tiers import torch_network

    frame, result, info = brief_run
    monkeypatch.setattr(finetuned_tier, "REFIT_EPOCHS", 1)
    active = load_version(info.path)
    real, starts = torch_network.fine_tune, []

    def recording(*args, **kwargs):
        starts.append(kwargs.get("start"))
        return real(*args, **kwargs)

    monkeypatch.setattr(torch_network, "fine_tune", recording)
    refit = refit_model(frame, result.params, warm_start=lambda: active)
    assert starts == [active.network.weights]
    assert refit.params["network"]["continued_from_weights"] is True
    assert refit.params["feature_set"] == FEATURE_SET
    assert isinstance(refit.classifier, FinetunedClassifier)
    assert len(refit.params["network"]["epochs"]) == 1


def test_network_precision_must_be_known() -> None:
    with pytest.raises(ValueError, match="int9"):
        configure(finetune_precision="int9")


@pytest.mark.slow
@needs_extra
def test_int8_weights_are_tried_only_when_asked(monkeypatch) -> None:
    from training.tiers import torch_network

    if not STARTER.is_file():
        pytest.skip("training/data/starter.csv is not present")
    frame = load_dataset(STARTER).frame.sample(150, random_state=1).reset_index(drop=True)
    real, tried = torch_network.export_onnx, []

    def recording(state, n_classes, precision="fp32"):
        tried.append(precision)
        return real(state, n_classes, precision)

    monkeypatch.setattr(torch_network, "export_onnx", recording)
    monkeypatch.setattr(finetuned_tier, "INT8_TOLERANCE", 1.0)  # whatever int8 scores, keep it
    monkeypatch.setattr(SETTINGS, "finetune_precision", "int8")
    result = finetuned_tier.train_finetuned(frame, seed=0, max_epochs=1)
    assert tried == ["int8"]
    assert result.params["network"]["precision"] == "int8"
    assert result.classifier.network.precision == "int8"
    monkeypatch.setattr(SETTINGS, "finetune_precision", "fp32")
    tried.clear()
    result = finetuned_tier.train_finetuned(frame, seed=0, max_epochs=1)
    assert tried == ["fp32"] and result.params["network"]["precision"] == "fp32"
