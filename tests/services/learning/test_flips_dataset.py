"""On the real tutorial dataset: the flip report lists exactly the rows two models disagree on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qcapp.models import ModelVersion, Prediction, Query
from training.data.datasets import normalise_question
from training.runtime.artifacts import save_version
from training.tiers.train import train_model

from helpers import SHARED_DATASET

STORED_QUESTIONS = 300


@pytest.fixture
def two_models(app, db):
    """Two quick models on disjoint halves of the training split, registered as versions."""
    if not SHARED_DATASET.is_file():
        pytest.skip(f"shared dataset not found at {SHARED_DATASET}")
    from qcapp.services.data.datasets import import_dataset
    from qcapp.services.data.merge import merged_training_set

    dataset, _ = import_dataset(SHARED_DATASET, "uiuc")
    merged = merged_training_set(dataset)
    columns = ["text", "coarse", "fine"]
    models = {}
    for name, half in (("v-even", merged.train.iloc[::2]), ("v-odd", merged.train.iloc[1::2])):
        result = train_model(half[columns], quick=True, with_metrics=False)
        info = save_version(result, Path(app.config["MODELS_DIR"]), name)
        db.session.add(
            ModelVersion(
                version=name,
                artifact_path=name,
                artifact_sha256=info.sha256,
                dataset_name="uiuc",
            )
        )
        models[name] = result.classifier
    # Users asked some training questions, one of them twice in another spelling.
    asked = list(merged.train["text"].iloc[:STORED_QUESTIONS])
    for text in asked + [asked[0].upper()]:
        query = Query(text=text, normalized=normalise_question(text))
        query.prediction = Prediction(
            coarse="HUM", fine="HUM:ind", coarse_confidence=0.5, fine_confidence=0.5
        )
        db.session.add(query)
    db.session.commit()
    return models, merged.held_out, asked


def test_flip_report_lists_exactly_the_rows_the_models_disagree_on(runner, two_models):
    models, held_out, asked = two_models
    old, new = models["v-even"], models["v-odd"]
    result = runner.invoke(
        args=["qc", "versions", "diff", "v-even", "v-odd", "--json", "--limit", "0"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    listed = {(row["source"], row["text"]): row for row in report["rows"]}

    # The same comparison, one question at a time through the single-question path.
    expected = {}
    for text, gold in zip(held_out["text"], held_out["fine"], strict=True):
        before, after = old.predict(text), new.predict(text)
        if before.fine != after.fine:
            expected[("held_out", text)] = (before, after, gold)
    # The duplicate differs only in case: the most recent spelling of it is the one compared.
    latest = [asked[0].upper()] + asked[1:]
    for text in latest:
        before, after = old.predict(text), new.predict(text)
        if before.fine != after.fine:
            expected[("query", text)] = (before, after, None)

    assert len(expected) > 20, "the two models should disagree on some rows"
    assert set(listed) == set(expected)
    for key, (before, after, gold) in expected.items():
        row = listed[key]
        assert (row["old_fine"], row["new_fine"], row["gold_fine"]) == (
            before.fine,
            after.fine,
            gold,
        )
        # One question is scored in another summation order than a batch (float32 weights).
        assert row["old_confidence"] == pytest.approx(before.fine_confidence, rel=1e-5)
        assert row["new_confidence"] == pytest.approx(after.fine_confidence, rel=1e-5)

    summary = report["summary"]
    assert summary["held_out"]["compared"] == len(held_out)
    assert summary["queries"]["compared"] == STORED_QUESTIONS
    held = [value for key, value in expected.items() if key[0] == "held_out"]
    old_right = sum(before.fine == gold for before, _after, gold in held)
    new_right = sum(after.fine == gold for _before, after, gold in held)
    assert (summary["mcnemar"]["old_right"], summary["mcnemar"]["new_right"]) == (
        old_right,
        new_right,
    )
    assert summary["held_out"]["flips"] == len(held)
    assert summary["held_out"]["neither"] == len(held) - old_right - new_right
    out_of = {}
    for (_source, _text), (before, _after, _gold) in expected.items():
        out_of[before.fine] = out_of.get(before.fine, 0) + 1
    per_class = summary["per_class"]
    counted = {
        label: per_class["held_out"].get(label, {}).get("out", 0)
        + per_class["query"].get(label, {}).get("out", 0)
        for label in set(per_class["held_out"]) | set(per_class["query"])
    }
    assert {label: n for label, n in counted.items() if n} == out_of
