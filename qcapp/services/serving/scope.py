"""The scope check served with every classification: the model, loaded once per process.

The model is fitted on data qcapp ships (the starter questions and the out-of-scope set), so
it depends on those files and the code alone; it is saved in the models folder under their
digest, fitted there by ``qc setup`` (or by the first request that needs it, once).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from functools import lru_cache
from pathlib import Path

import joblib
from flask import current_app

from training import SCOPE_REASONS as REASONS
from training import ScopeModel, ScopeVerdict, dump_atomically, load_dataset
from training import scope as scope_training

from ..data.datasets import starter_dataset_path

log = logging.getLogger(__name__)

_MODELS: dict[str, ScopeModel] = {}
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def scope_digest() -> str:
    """A digest of everything the scope model is fitted from: both data files and its code."""
    digest = hashlib.sha256()
    for path in (
        scope_training.OUT_OF_SCOPE_PATH,
        starter_dataset_path(),
        Path(scope_training.__file__),
    ):
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def scope_model_path(models_dir: str | Path, digest: str) -> Path:
    """Where the scope model fitted from data with this digest is kept."""
    return Path(models_dir) / f"scope-{digest}.joblib"


def fit_shipped_scope_model() -> ScopeModel:
    """Fit the scope model on the starter questions and the bundled out-of-scope set."""
    questions = list(load_dataset(starter_dataset_path()).frame["text"])
    outside = [text for _, text in scope_training.load_out_of_scope()]
    return scope_training.fit_scope_model(questions, outside)


def scope_with_discards(discarded: list[str]) -> ScopeModel | None:
    """The scope check refitted with the texts reviewers discarded, for a new version to carry;
    None while there is none (the version serves the shipped check)."""
    if not discarded:
        return None
    questions = list(load_dataset(starter_dataset_path()).frame["text"])
    outside = [text for _, text in scope_training.load_out_of_scope()]
    return scope_training.fit_scope_model(questions, outside, discarded=discarded)


def ensure_scope_model(models_dir: str | Path) -> ScopeModel:
    """The process's scope model: from memory, from the models folder, or fitted and saved."""
    digest = scope_digest()
    model = _MODELS.get(digest)
    if model is not None:
        return model
    with _LOCK:
        if digest in _MODELS:
            return _MODELS[digest]
        path = scope_model_path(models_dir, digest)
        model = _load(path)
        if model is None:
            log.info("fitting the scope model", extra={"path": str(path)})
            model = fit_shipped_scope_model()
            try:
                _save(model, path)
            except OSError:  # a read-only folder costs a fit per process, never an answer
                log.warning("could not save the scope model", extra={"path": str(path)})
        _MODELS[digest] = model
        return model


def _load(path: Path) -> ScopeModel | None:
    if not path.exists():
        return None
    try:
        model = joblib.load(path)
    except Exception:  # a truncated or foreign file is replaced by a fresh fit
        log.warning("unreadable scope model, fitting it again", extra={"path": str(path)})
        return None
    return model if isinstance(model, ScopeModel) else None


def _save(model: ScopeModel, path: Path) -> None:
    """Write atomically, so another process never loads half a file."""
    dump_atomically(model, path)


def check_scope(texts: list[str], scope: ScopeModel | None = None) -> list[ScopeVerdict]:
    """The scope verdict on each validated question: by the serving version's own scope check
    (``scope``, once reviewers discarded texts), else by the shipped one."""
    if scope is None:
        scope = ensure_scope_model(current_app.config["MODELS_DIR"])
    return scope.check_many(texts)


def scope_dict(in_scope: bool, reason: str | None) -> dict:
    """The API's fields for a verdict: ``in_scope`` and the reason's code and words."""
    code = reason or ("english_question" if in_scope else "not_english")
    return {"in_scope": in_scope, "scope": {"reason": code, "message": REASONS[code]}}
