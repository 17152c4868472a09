"""An ONNX graph and its tokenizer stored inside a model, run with ONNX Runtime on the CPU.

Both the sentence encoder of an embeddings version and the fine-tuned network of a finetune
version are such graphs; serving either needs ONNX Runtime and the tokenizer, never torch.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence

import numpy as np

from training.runtime import extras
from training.settings import SETTINGS


class StoredGraph:
    """An ONNX graph and its tokenizer, pickled inside a model; the ONNX Runtime session is
    opened once, when a worker loads the model (``prepare``) or at the first question."""

    def __init__(self, graph: bytes, tokenizer: str, max_tokens: int, precision: str) -> None:
        self.graph = graph
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.precision = precision
        self.digest = hashlib.sha256(graph).hexdigest()
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def prepare(self) -> None:
        """Create the session and the tokenizer (once), set up for serving: one worker's share
        of threads (``training.settings``), sequential execution, the CPU provider."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            missing = extras.missing_modules(extras.SERVING_MODULES)
            if missing:
                raise extras.EmbeddingsUnavailable(
                    f"the 'embeddings' extra is not installed (missing: {', '.join(missing)}): "
                    "run make embeddings"
                )
            import onnxruntime
            from tokenizers import Tokenizer

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = SETTINGS.encoder_threads
            options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            tokenizer = Tokenizer.from_str(self.tokenizer)
            tokenizer.enable_truncation(max_length=self.max_tokens)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            self._tokenizer = tokenizer  # before the session: readers test the session only
            self._session = onnxruntime.InferenceSession(
                self.graph, options, providers=["CPUExecutionProvider"]
            )

    def batches(self, texts: Sequence[str], size: int) -> Iterator[list[np.ndarray]]:
        """The graph's outputs for ``texts``, one list of outputs per batch of ``size`` texts."""
        self.prepare()
        for start in range(0, len(texts), size):
            batch = self._tokenizer.encode_batch(list(texts[start : start + size]))
            ids = np.array([item.ids for item in batch], dtype=np.int64)
            mask = np.array([item.attention_mask for item in batch], dtype=np.int64)
            yield self._session.run(None, {"input_ids": ids, "attention_mask": mask})
