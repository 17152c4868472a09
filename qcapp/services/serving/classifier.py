"""The serving model: loaded once per worker, swapped when the active version changes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask
from sqlalchemy import select

from training import LabelBatch

from ...blocking import in_native_thread
from ...database import read_only_connection
from ...errors import ServiceUnavailable
from ...models import ModelVersion
from ..data.artifacts import local_version

log = logging.getLogger(__name__)

VERSION_COLUMNS = (
    ModelVersion.id, ModelVersion.version, ModelVersion.artifact_path, ModelVersion.artifact_sha256
)


@dataclass(frozen=True)
class LoadedModel:
    """A classifier in memory with the version row it came from."""

    id: int
    version: str
    classifier: Any
    sha256: str = ""
    scope: Any = None  # the version's own scope check, None for the shipped one


@dataclass(frozen=True)
class VersionRef:
    id: int
    version: str
    artifact_path: str
    artifact_sha256: str


class CorrectedClassifier:
    """A model plus the labels admins approved for exact questions it was trained with.

    A retrained model usually learns an approved correction, but a linear model may still be
    outvoted by many similar base questions; the reviewed label of the very same (normalised)
    question is the better answer, so it is served as such.
    """

    def __init__(self, model: Any, overrides: dict[str, list[str]]):
        self.model = model
        self.overrides = overrides

    def predict_many(self, texts: list[str], *, explain: bool = True) -> list[Any]:
        predictions = self.model.predict_many(texts, explain=explain)
        return [
            self._apply(text, prediction)
            for text, prediction in zip(texts, predictions, strict=True)
        ]

    def predict(self, text: str) -> Any:
        return self.predict_many([text])[0]


    def predict_labels(self, texts: list[str]) -> Any:
        """Labels only, for many questions, with the same overrides as ``predict_many``."""
        return apply_overrides(self.model.predict_labels(texts), texts, self.overrides)

    def _apply(self, text: str, prediction: Any) -> Any:
        from training import normalise_question

        label = self.overrides.get(normalise_question(text))
        if label is None or label[1] == prediction.fine:
            return prediction
        coarse, fine = label
        runner_up = {
            "coarse": prediction.fine.split(":", 1)[0],
            "fine": prediction.fine,
            "confidence": prediction.fine_confidence,
        }
        alternatives = [runner_up] + [a for a in prediction.alternatives if a["fine"] != fine]
        corrected = replace(
            prediction,
            coarse=coarse,
            coarse_confidence=1.0,
            fine=fine,
            fine_confidence=1.0,
            alternatives=alternatives[: len(prediction.alternatives) or 3],
            explanation=[],
        )
        corrected.label_source = "correction"
        return corrected


def apply_overrides(
    batch: LabelBatch, texts: Sequence[str], overrides: dict[str, list[str]] | None
) -> LabelBatch:
    """A copy of ``batch`` in which reviewed labels of exact questions replace the model's."""
    from training import normalise_question

    result = LabelBatch(
        list(batch.coarse), list(batch.coarse_confidence),
        list(batch.fine), list(batch.fine_confidence),
    )
    for i, text in enumerate(texts if overrides else ()):
        label = overrides.get(normalise_question(text))
        if label is not None and label[1] != result.fine[i]:
            result.coarse[i], result.fine[i] = label
            result.coarse_confidence[i] = result.fine_confidence[i] = 1.0
    return result


def with_overrides(model: Any, overrides: dict[str, list[str]] | None) -> Any:
    """Wrap ``model`` so reviewed labels of exact questions win, as the workers serve it."""
    return CorrectedClassifier(model, dict(overrides)) if overrides else model


def _load_and_prepare(path: Any) -> tuple[Any, Any]:
    """The classifier stored at ``path``, ready to answer (an encoder loads here, off the
    request path, not on the first question), and the version's scope check if it has one."""
    from training import load_version, load_version_scope

    classifier = load_version(path)
    classifier.prepare()
    return classifier, load_version_scope(path)


class ModelHolder:
    """Holds this worker's model; requests read it, a background thread replaces it.

    Every ``MODEL_CHECK_INTERVAL`` seconds one request looks up the active version id (one
    indexed read). When it differs from the loaded one, the new artifact is loaded in a thread
    while requests go on with the old model, then a single reference is swapped.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.watching = False
        self._stop = threading.Event()
        self.check_interval = float(app.config["MODEL_CHECK_INTERVAL"])
        self._current: LoadedModel | None = None
        self._next_check = 0.0
        self._lock = threading.Lock()
        self._loading: int | None = None
        self.problem: str | None = None
        self.failed_versions: dict[int, str] = {}

    @property
    def current(self) -> LoadedModel | None:
        return self._current

    def get(self) -> LoadedModel:
        """The model to answer with now; 503 when none can be served."""
        now = time.monotonic()
        # With a watcher thread (gunicorn workers) requests never look at the database;
        # without one (development server, tests) a request checks now and then.
        if (not self.watching or self._current is None) and now >= self._next_check:
            self._next_check = now + self.check_interval
            self.refresh(background=self._current is not None)
        if self._current is None:
            raise ServiceUnavailable(
                self.problem or "No model is available yet.", code_name="model_unavailable"
            )
        return self._current

    def get_or_none(self) -> LoadedModel | None:
        """The model answering now, or None when none can be served (pages that only mention it)."""
        try:
            return self.get()
        except ServiceUnavailable:
            return None

    def warm(self) -> None:
        """Load the active model now (at worker start), so no request waits for it."""
        self.refresh(background=False)
        self._next_check = time.monotonic() + self.check_interval

    def start_watching(self) -> None:
        """Follow the active version from a background thread, so even an idle worker
        switches within one check interval, and requests skip the check entirely."""
        if self.watching:
            return
        self.watching = True
        self._stop.clear()
        threading.Thread(target=self._watch, daemon=True, name="model-watcher").start()

    def stop_watching(self) -> None:
        """End the watcher thread (tests; a server's workers simply exit)."""
        self._stop.set()
        self.watching = False

    def _watch(self) -> None:
        while not self._stop.wait(self.check_interval):
            try:
                with self.app.app_context():
                    self.refresh(background=False)
            except Exception:  # noqa: BLE001  (a database hiccup must not end the watcher)
                log.exception("checking the active model version failed")

    def refresh(self, background: bool = True) -> None:
        """Compare the active version with the loaded one and load it when they differ."""
        active = self._active_version()
        if active is None:
            if self._current is None:
                self.problem = "No model version is active. Train one with `flask qc train`."
            return
        if self._current is not None and self._current.id == active.id:
            return
        if active.id in self.failed_versions:
            if self._current is None:
                self._load_fallback(active)
            return
        overrides = self._overrides(active.id)
        if background:
            self._load_in_background(active, overrides)
        else:
            self._load(active, overrides)
            if self._current is None or self._current.id != active.id:
                self._load_fallback(active)

    def _load_fallback(self, broken: VersionRef) -> None:
        """Serve the most recently active version that still loads, when the active one won't."""
        with read_only_connection() as connection:
            candidates = connection.execute(
                select(*VERSION_COLUMNS)
                .where(ModelVersion.id != broken.id, ModelVersion.activated_at.is_not(None))
                .order_by(ModelVersion.activated_at.desc())
                .limit(5)
            ).all()
        reason = self.failed_versions.get(broken.id, "")
        for row in candidates:
            ref = VersionRef(*row)
            if ref.id in self.failed_versions:
                continue
            self._load(ref, self._overrides(ref.id))
            if self._current is not None and self._current.id == ref.id:
                self.problem = f"{reason} Serving the last valid version, {ref.version}, instead."
                log.warning(self.problem)
                return
        self.problem = reason or f"Model version {broken.version} cannot be loaded."

    def forget(self) -> None:
        """Drop the loaded model so the next request loads the active one (tests, CLI)."""
        with self._lock:
            self._current = None
            self._next_check = 0.0
            self.failed_versions.clear()

    def _active_version(self) -> VersionRef | None:
        with read_only_connection() as connection:
            row = connection.execute(
                select(*VERSION_COLUMNS).where(
                    ModelVersion.is_active.is_(True)
                )
            ).first()
        return VersionRef(*row) if row else None

    def _overrides(self, version_id: int) -> dict[str, list[str]]:
        with read_only_connection() as connection:
            sources = connection.scalar(
                select(ModelVersion.data_sources).where(ModelVersion.id == version_id)
            )
        return dict((sources or {}).get("overrides") or {})

    def _load_in_background(self, ref: VersionRef, overrides: dict[str, list[str]]) -> None:
        with self._lock:
            if self._loading == ref.id:
                return
            self._loading = ref.id
        threading.Thread(
            target=self._load, args=(ref, overrides), daemon=True, name="model-loader"
        ).start()

    def _load(self, ref: VersionRef, overrides: dict[str, list[str]]) -> None:
        try:
            # From the shared store when this host has no verified copy yet.
            with self.app.app_context():
                path = local_version(ref)
            # On a native thread under the gevent worker: a load computes (unpickling, an
            # encoder's session) and would otherwise hold up every request of the worker.
            classifier, scope = in_native_thread(_load_and_prepare, path)
        except Exception as error:  # noqa: BLE001  (any broken artifact must not stop serving)
            reason = f"Model version {ref.version} cannot be loaded: {error}"
            log.error(reason)
            self.failed_versions[ref.id] = reason
            self.problem = reason
            return
        finally:
            with self._lock:
                self._loading = None
        classifier = with_overrides(classifier, overrides)
        with self._lock:
            self._current = LoadedModel(
                ref.id, ref.version, classifier, ref.artifact_sha256, scope
            )
        self.problem = None
        self.failed_versions.pop(ref.id, None)
        log.info("serving model version %s", ref.version)
