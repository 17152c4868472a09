"""The fine-tuned tier as served: an ONNX graph of the fine-tuned encoder with its two heads,
mixed with the lexical model of the default features.

Training (training/tiers/torch_network.py) needs torch; serving needs only ONNX Runtime and the
tokenizer, like an embeddings version. The network's coarse and fine probabilities
(temperature-scaled) are mixed with the lexical model's before the usual coarse blend, so the
fine answer still always lies inside the coarse one and explanations still come from the lexical
weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from training.question_features.text import mark_acronyms, untokenise
from training.runtime.onnx_graph import StoredGraph
from training.runtime.predictor import QuestionClassifier

FEATURE_SET = "finetune"
# Questions are short; a 500-character question stays well below this many word pieces.
MAX_TOKENS = 128
BATCH = 64


def network_text(text: str) -> str:
    """A question as the network reads it: untokenised, acronyms marked (the encoder is
    uncased)."""
    return mark_acronyms(untokenise(text))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    np.exp(scaled, out=scaled)
    scaled /= scaled.sum(axis=1, keepdims=True)
    return scaled


class NetworkHeads(StoredGraph):
    """The fine-tuned encoder and its heads as an ONNX graph (coarse and fine logits), its
    tokenizer, the calibrated temperatures and, for refits, the weights it was exported from.

    ``weights`` holds the PyTorch state as float16 arrays: a refit continues from them.
    ``marks``: the network was trained on questions with their acronyms marked
    (``network_text``); versions from before that read the questions unmarked.
    """

    def __init__(
        self,
        graph: bytes,
        tokenizer: str,
        temperatures: tuple[float, float],
        weights: dict[str, np.ndarray],
        precision: str = "fp32",
        labels: tuple[list[str], list[str]] | None = None,
        marks: bool = False,
    ) -> None:
        super().__init__(graph, tokenizer, MAX_TOKENS, precision)
        self.temperatures = (float(temperatures[0]), float(temperatures[1]))
        self.weights = weights
        # The coarse and fine labels of the heads' columns (a refit keeps the heads if equal).
        self.labels = labels
        self.marks = marks

    def __getstate__(self) -> dict:
        return {
            "graph": self.graph, "tokenizer": self.tokenizer, "temperatures": self.temperatures,
            "weights": self.weights, "precision": self.precision, "labels": self.labels,
            "marks": self.marks,
        }

    def logits(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Raw coarse and fine logits of the (untokenised) questions."""
        coarse, fine = [], []
        questions = [network_text(t) if self.marks else untokenise(t) for t in texts]
        for outputs in self.batches(questions, BATCH):
            coarse.append(outputs[0])
            fine.append(outputs[1])
        return np.vstack(coarse), np.vstack(fine)

    def probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated coarse and fine probabilities."""
        coarse, fine = self.logits(texts)
        return softmax(coarse, self.temperatures[0]), softmax(fine, self.temperatures[1])


def mix(network: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """The mixture ``weight * network + (1 - weight) * lexical`` of two probability rows."""
    return weight * network + (1.0 - weight) * lexical


class FinetunedClassifier(QuestionClassifier):
    """A QuestionClassifier whose probabilities are mixed with a fine-tuned network's.

    The lexical part (default features, linear coarse and fine models) is fitted on the same
    rows; ``network_weight`` (chosen on the validation split) is the network's share.
    """

    def __init__(self, lexical: QuestionClassifier, network: NetworkHeads,
                 network_weight: float) -> None:
        super().__init__(
            lexical.features, lexical.coarse_model, lexical.fine_model, FEATURE_SET,
            coarse_blend=lexical.coarse_blend, explainers=lexical._explainers,
        )
        self.network = network
        self.network_weight = float(network_weight)

    def prepare(self) -> None:
        """Load the network's session as well as the lexical features."""
        self.network.prepare()
        super().prepare()

    def _mix(self, texts: list[str], coarse: np.ndarray, fine: np.ndarray) -> tuple:
        """Mix the network's calibrated probabilities into the lexical ones."""
        if self.network_weight <= 0.0:
            return coarse, fine
        network_coarse, network_fine = self.network.probabilities(texts)
        return (
            mix(network_coarse, coarse, self.network_weight),
            mix(network_fine, fine, self.network_weight),
        )

    def lexical_probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The lexical model's own (unmixed, unblended) probabilities."""
        matrix = sparse.csr_matrix(self._transform(texts))
        return self._model_probabilities(matrix)
