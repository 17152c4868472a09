"""Loading pickled models written before ``training/`` was split into subpackages.

A pickle names every class and function it holds by its module path, so a version stored
before the split asks for ``training.predictor.QuestionClassifier``,
``training.features.QuestionFeatures``, ``training.text.preprocess`` and the like. Loading
reads those old paths as the modules that hold the code now; what is written keeps the new
paths, and stored files are never rewritten.
"""

from __future__ import annotations

import importlib
import io
import pickle
import sys
import threading
import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

# Old module -> the modules that hold its names now, looked through in order
# (``training.embeddings`` was split in four).
MOVED_MODULES: dict[str, tuple[str, ...]] = {
    "training.artifacts": ("training.runtime.artifacts",),
    "training.compose_out_of_scope": ("training.data.compose_out_of_scope",),
    "training.embeddings": (
        "training.runtime.sentence_encoder",
        "training.runtime.onnx_graph",
        "training.runtime.extras",
        "training.tiers.embeddings",
    ),
    "training.estimators": ("training.runtime.estimators",),
    "training.evaluate": ("training.quality.evaluate",),
    "training.fast_tfidf": ("training.question_features.fast_tfidf",),
    "training.feature_rows": ("training.question_features.rows",),
    "training.features": ("training.question_features.extractors",),
    "training.finetune": ("training.tiers.torch_network",),
    "training.finetune_tier": ("training.tiers.finetuned",),
    "training.finetuned": ("training.runtime.finetuned_classifier",),
    "training.fitting": ("training.tiers.fitting",),
    "training.flips": ("training.quality.flips",),
    "training.heuristics": ("training.question_features.heuristics",),
    "training.io": ("training.data.datasets",),
    "training.label_issues": ("training.quality.label_issues",),
    "training.lexicon": ("training.question_features.lexicon",),
    "training.neighbours": ("training.quality.neighbours",),
    "training.predictor": ("training.runtime.predictor",),
    "training.progress": ("training.tiers.progress",),
    "training.refit": ("training.tiers.refit",),
    "training.scope": ("training.runtime.scope",),
    "training.select": ("training.tiers.selection",),
    "training.stability": ("training.quality.stability",),
    "training.text": ("training.question_features.text",),
    "training.train": ("training.tiers.train",),
    "training.typical": ("training.quality.typical",),
}


def current_path(module: str, name: str) -> tuple[str, str]:
    """Where the global ``module.name`` named by a pickle lives now (unchanged if it never
    moved)."""
    homes = MOVED_MODULES.get(module)
    if homes is None:
        return module, name
    outer = name.split(".", 1)[0]  # a nested class is pickled as "Outer.Inner"
    for home in homes:
        if hasattr(importlib.import_module(home), outer):
            return home, name
    return homes[0], name  # not found anywhere: the unpickler reports it as usual


class MovedPathsUnpickler(pickle.Unpickler):
    """The C unpickler, reading the old module paths as the new ones; only the lookup of each
    class or function (a few hundred per model) goes through Python."""

    def find_class(self, module: str, name: str) -> object:
        return super().find_class(*current_path(module, name))


def loads(data: bytes, buffers: Iterable | None = None) -> object:
    """``pickle.loads`` for model files, old module paths included."""
    return MovedPathsUnpickler(io.BytesIO(data), buffers=buffers).load()


class _OldModule(types.ModuleType):
    """An old module path whose names resolve to where they live now."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        home, _ = current_path(self.__name__, name)
        return getattr(importlib.import_module(home), name)


_OLD_NAMES_LOCK = threading.Lock()


@contextmanager
def _old_module_names() -> Iterator[None]:
    """While inside, the old module paths import as stand-ins for the new modules.

    joblib unpickles with its own pure-Python unpickler, which takes no ``find_class``; the
    stand-ins are in ``sys.modules`` only for the length of one such load, one load at a time.
    """
    with _OLD_NAMES_LOCK:
        added = [old for old in MOVED_MODULES if old not in sys.modules]
        for old in added:
            sys.modules[old] = _OldModule(old)
        try:
            yield
        finally:
            for old in added:
                if isinstance(sys.modules.get(old), _OldModule):
                    del sys.modules[old]


def load_joblib(path: Path) -> object:
    """``joblib.load`` for model files written with joblib, old module paths included."""
    import joblib

    with _old_module_names():
        return joblib.load(path)
