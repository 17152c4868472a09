"""Model side of qcapp: question datasets, features, training, stored versions and prediction.

What the application may use is named here (``__all__``); it imports nothing else from this
package. The subpackages are organised by concern:

- ``training.data``: the shipped datasets and their readers and writers;
- ``training.question_features``: how a question becomes a row of numbers;
- ``training.tiers``: training and refitting (lexical, sentence embeddings, fine-tuned);
- ``training.runtime``: stored versions, the classifier that answers, the scope check;
- ``training.quality``: evaluation, flips between versions and the label-quality tools.

Each name is imported on first use (PEP 562), so ``import training`` costs nothing and asking
for the taxonomy does not load scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public name -> (module, attribute in it; None for the module itself).
_PUBLIC: dict[str, tuple[str, str | None]] = {
    # settings that the app factory configures once per process
    "configure": ("training.settings", "configure"),
    "ENCODER_PRECISIONS": ("training.settings", "ENCODER_PRECISIONS"),
    # the UIUC taxonomy
    "taxonomy": ("training.taxonomy", None),
    # datasets
    "DatasetError": ("training.data.datasets", "DatasetError"),
    "LoadResult": ("training.data.datasets", "LoadResult"),
    "load_dataset": ("training.data.datasets", "load_dataset"),
    "normalise_question": ("training.data.datasets", "normalise_question"),
    "dataset_fingerprint": ("training.data.datasets", "dataset_fingerprint"),
    "untokenise": ("training.question_features.text", "untokenise"),
    # training and refitting
    "train_model": ("training.tiers.train", "train_model"),
    "default_step_seconds": ("training.tiers.train", "default_step_seconds"),
    "TrainResult": ("training.tiers.fitting", "TrainResult"),
    "refit_model": ("training.tiers.refit", "refit_model"),
    "reusable_features": ("training.tiers.refit", "reusable_features"),
    "KEPT_FEATURE_SETS": ("training.tiers.refit", "KEPT_FEATURE_SETS"),
    "REFIT_STEP_SECONDS": ("training.tiers.refit", "REFIT_STEP_SECONDS"),
    "FINETUNE_FEATURE_SET": ("training.runtime.finetuned_classifier", "FEATURE_SET"),
    "Steps": ("training.tiers.progress", "Steps"),
    "ProgressSink": ("training.tiers.progress", "ProgressSink"),
    "cues_remembered": ("training.question_features.extractors", "cues_remembered"),
    "feature_rows_of": ("training.question_features.rows", "rows_of"),
    # stored model versions
    "save_version": ("training.runtime.artifacts", "save_version"),
    "load_version": ("training.runtime.artifacts", "load_version"),
    "load_version_scope": ("training.runtime.artifacts", "load_version_scope"),
    "read_manifest": ("training.runtime.artifacts", "read_manifest"),
    "verify_version": ("training.runtime.artifacts", "verify_version"),
    "ArtifactError": ("training.runtime.artifacts", "ArtifactError"),
    "VERSION_MANIFEST": ("training.runtime.artifacts", "MANIFEST"),
    "TEMPORARY_VERSION_PREFIX": ("training.runtime.artifacts", "TEMPORARY_PREFIX"),
    "dump_atomically": ("training.files", "dump_atomically"),
    # the classifier and its answers
    "QuestionClassifier": ("training.runtime.predictor", "QuestionClassifier"),
    "Prediction": ("training.runtime.predictor", "Prediction"),
    "LabelBatch": ("training.runtime.predictor", "LabelBatch"),
    # the scope check
    "scope": ("training.runtime.scope", None),
    "SCOPE_REASONS": ("training.runtime.scope", "REASONS"),
    "ScopeModel": ("training.runtime.scope", "ScopeModel"),
    "ScopeVerdict": ("training.runtime.scope", "ScopeVerdict"),
    # evaluation and flips between versions
    "evaluate": ("training.quality.evaluate", "evaluate"),
    "format_metrics_table": ("training.quality.evaluate", "format_metrics_table"),
    "metrics_from_labels": ("training.quality.evaluate", "metrics_from_labels"),
    "FlipComparison": ("training.quality.flips", "FlipComparison"),
    "FlipRow": ("training.quality.flips", "FlipRow"),
    "flips_between": ("training.quality.flips", "flips_between"),
    "flip_class_counts": ("training.quality.flips", "class_counts"),
    "held_out_flip_test": ("training.quality.flips", "held_out_test"),
    "label_in_batches": ("training.quality.flips", "label_in_batches"),
    # label quality
    "find_doubtful_labels": ("training.quality.label_issues", "find_doubtful_labels"),
    "near_duplicates": ("training.quality.label_issues", "near_duplicates"),
    "similar_groups": ("training.quality.label_issues", "similar_groups"),
    "NeighbourIndex": ("training.quality.neighbours", "NeighbourIndex"),
    "instability": ("training.quality.stability", "instability"),
    "typical_questions": ("training.quality.typical", "typical_questions"),
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    try:
        module_name, attribute = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'training' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

