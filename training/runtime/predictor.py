"""QuestionClassifier: a fitted feature extractor plus coarse and fine models, and predictions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import sparse

from training.question_features.extractors import QuestionFeatures
from training.question_features.fast_tfidf import supports, tfidf_row, tfidf_rows
from training.question_features.rows import kept_rows
from training.question_features.text import word_spans
from training.runtime.estimators import LinearHead, explainer_weights, linear_head

MAX_ALTERNATIVES = 3
MAX_EXPLANATION_WORDS = 5
# Cue features whose value is a word of the question, so their weight can be highlighted.
WORD_VALUED_CUES = ("head=", "wh=")
_EPSILON = 1e-12


@dataclass
class Prediction:
    """One classified question: labels, confidences, runner-up labels and highlighted words."""

    coarse: str
    coarse_confidence: float
    fine: str
    fine_confidence: float
    alternatives: list[dict] = field(default_factory=list)
    explanation: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)


@dataclass
class LabelBatch:
    """Labels and confidences of many questions, without alternatives or explanations."""

    coarse: list[str]
    coarse_confidence: list[float]
    fine: list[str]
    fine_confidence: list[float]

    def __len__(self) -> int:
        return len(self.fine)


class QuestionClassifier:
    """Predicts a coarse class and a fine class that always lies inside it."""

    def __init__(
        self,
        features: object,
        coarse_model: object,
        fine_model: object,
        feature_set: str,
        coarse_blend: float = 0.5,
        explainers: tuple[LinearHead | None, LinearHead | None] | None = None,
    ) -> None:
        self.features = features
        self.coarse_model = coarse_model
        self.fine_model = fine_model
        self.feature_set = feature_set
        # Weight of the fine model's summed probabilities in the coarse decision.
        self.coarse_blend = coarse_blend
        self.coarse_labels = [str(label) for label in coarse_model.classes_]
        self.fine_labels = [str(label) for label in fine_model.classes_]
        # Fast single-row scorers when the models are linear; None means use predict_proba.
        self._coarse_head = linear_head(coarse_model)
        self._fine_head = linear_head(fine_model)
        if explainers is None:
            explainers = (explainer_weights(coarse_model), explainer_weights(fine_model))
        self._explainers = explainers
        coarse_index = {label: i for i, label in enumerate(self.coarse_labels)}
        self._fine_to_coarse = np.array(
            [coarse_index.get(label.split(":", 1)[0], -1) for label in self.fine_labels]
        )
        self._membership = np.zeros((len(self.fine_labels), len(self.coarse_labels)))
        for fine_position, coarse_position in enumerate(self._fine_to_coarse):
            if coarse_position >= 0:
                self._membership[fine_position, coarse_position] = 1.0
        self._prepare_explanations()

    def prepare(self) -> None:
        """Load what the features need (an encoder, say) and answer once, so that the first
        real question is as fast as any other: a worker calls this before swapping models."""
        for _, transformer in getattr(self.features, "transformer_list", []):
            prepare = getattr(transformer, "prepare", None)
            if callable(prepare):
                prepare()
        self.predict("What is the tallest mountain in the world?")

    @property
    def labels(self) -> dict[str, list[str]]:
        """Coarse and fine labels in model column order (for the label-map JSON)."""
        return {"coarse": list(self.coarse_labels), "fine": list(self.fine_labels)}

    def _prepare_explanations(self) -> None:
        """Map feature columns that stand for words (word n-grams, word-valued cues) to terms."""
        columns: list[int] = []
        terms: list[str] = []
        offset = 0
        for name, transformer in getattr(self.features, "transformer_list", []):
            names = list(transformer.get_feature_names_out())
            for position, feature_name in enumerate(names):
                if name == "word":
                    columns.append(offset + position)
                    terms.append(str(feature_name))
                elif name == "cues" and feature_name.startswith(WORD_VALUED_CUES):
                    columns.append(offset + position)
                    terms.append(str(feature_name).split("=", 1)[1])
            offset += len(names)
        self._term_of_column = dict(zip(columns, terms, strict=True))

    def _transform(self, texts: list[str]) -> sparse.csr_matrix:
        """Feature matrix; calls the union's parts directly to skip its per-call overhead.

        In a training process that keeps this extractor's rows, the kept rows are used.
        """
        kept = kept_rows(self.features)
        if kept is not None:
            return kept.matrix(texts)
        parts = getattr(self.features, "transformer_list", None)
        if parts is None or self.features.transformer_weights:
            return sparse.csr_matrix(self.features.transform(texts))
        if len(texts) == 1:
            columns, values, width = self._row(texts[0])
            return sparse.csr_matrix(
                (values, columns, np.array([0, len(columns)])), shape=(1, width)
            )
        blocks = [
            tfidf_rows(transformer, texts)
            if supports(transformer)
            else transformer.transform(texts)
            for _, transformer in parts
            if transformer not in ("drop", "passthrough", None)
        ]
        return sparse.hstack(blocks, format="csr")

    def _row(self, text: str) -> tuple[np.ndarray, np.ndarray, int]:
        """One question's features as sorted column indices, values and the total width.

        Serving classifies one question per request; building a sparse matrix per block and
        stacking them cost more than computing the features, so the row is assembled here.
        """
        columns, values, offset = [], [], 0
        for _, transformer in self.features.transformer_list:
            if transformer in ("drop", "passthrough", None):
                continue
            if supports(transformer):
                block_columns, block_values = tfidf_row(transformer, text)
                width = len(transformer.vocabulary_)
            elif isinstance(transformer, QuestionFeatures):
                block_columns, block_values = transformer.row(text)
                width = len(transformer.vectorizer_.vocabulary_)
            else:
                block = sparse.csr_matrix(transformer.transform([text]))
                block.sort_indices()
                block_columns, block_values, width = block.indices, block.data, block.shape[1]
            columns.append(block_columns + offset)
            values.append(block_values)
            offset += width
        return np.concatenate(columns), np.concatenate(values), offset

    def _fast_single(self) -> bool:
        """Whether one question can be scored from its row without sparse matrices."""
        parts = getattr(self.features, "transformer_list", None)
        return (
            parts is not None
            and not self.features.transformer_weights
            and self._coarse_head is not None
            and self._fine_head is not None
        )

    def _model_probabilities(self, matrix: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """The coarse and fine models' own probability matrices."""
        if self._coarse_head is not None:
            coarse = self._coarse_head.predict_proba(matrix)
        else:
            coarse = self.coarse_model.predict_proba(matrix)
        if self._fine_head is not None:
            fine = self._fine_head.predict_proba(matrix)
        else:
            fine = self.fine_model.predict_proba(matrix)
        return coarse, fine

    def _probabilities(
        self, matrix: sparse.csr_matrix, texts: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coarse (blended) and fine probability matrices."""
        return self._blend(*self._mix(texts, *self._model_probabilities(matrix)))

    def _mix(
        self, texts: list[str], coarse: np.ndarray, fine: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Combine the models' probabilities with another scorer's (none here)."""
        return coarse, fine

    def _blend(self, coarse: np.ndarray, fine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mix the fine model's summed probabilities into the coarse ones."""
        fine_by_coarse = fine @ self._membership
        coarse = (1 - self.coarse_blend) * coarse + self.coarse_blend * fine_by_coarse
        return coarse, fine

    def _joint_fine(self, coarse: np.ndarray, fine: np.ndarray) -> np.ndarray:
        """P(coarse) * P(fine | coarse): fine scores consistent with the coarse decision."""
        within = fine @ self._membership
        parent = self._fine_to_coarse
        return coarse[:, parent] * fine / np.maximum(within[:, parent], _EPSILON)

    def _explain(
        self, text: str, columns: np.ndarray, values: np.ndarray, coarse: int, fine: int
    ) -> list[dict]:
        """Words of the original text whose features pushed towards the predicted labels."""
        coarse_weights, fine_weights = self._explainers
        if coarse_weights is None or fine_weights is None:
            return []
        contributions: dict[str, float] = {}
        for column, value in zip(columns.tolist(), values.tolist(), strict=True):
            term = self._term_of_column.get(column)
            if term is None:
                continue
            weight = coarse_weights.weights[column, coarse] + fine_weights.weights[column, fine]
            contributions[term] = contributions.get(term, 0.0) + value * float(weight)
        positive = {term: weight for term, weight in contributions.items() if weight > 0}
        if not positive:
            return []
        tokens = word_spans(text)
        spans: dict[tuple[int, int], float] = {}
        for term, weight in positive.items():
            parts = term.split()
            for start in range(len(tokens) - len(parts) + 1):
                if all(tokens[start + k][0] == part for k, part in enumerate(parts)):
                    span = (tokens[start][1], tokens[start + len(parts) - 1][2])
                    spans[span] = spans.get(span, 0.0) + weight
        ranked = sorted(spans.items(), key=lambda item: -item[1])[:MAX_EXPLANATION_WORDS]
        return [
            {"word": text[start:end], "start": start, "end": end, "weight": round(weight, 4)}
            for (start, end), weight in ranked
        ]

    def _decide(self, coarse: np.ndarray, joint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row, the coarse class's column and the best fine class's column inside it."""
        coarse_positions = np.argmax(coarse, axis=1)
        allowed = np.where(self._fine_to_coarse[None, :] == coarse_positions[:, None], joint, -1.0)
        return coarse_positions, np.argmax(allowed, axis=1)

    def _build(
        self,
        text: str,
        row: tuple[np.ndarray, np.ndarray],
        coarse: np.ndarray,
        joint: np.ndarray,
        positions: tuple[int, int],
        explain: bool,
    ) -> Prediction:
        """Prediction for one row of probabilities and its decided (coarse, fine) columns."""
        coarse_position, fine_position = positions
        order = np.argsort(-joint)
        alternatives = [
            {
                "coarse": self.fine_labels[i].split(":", 1)[0],
                "fine": self.fine_labels[i],
                "confidence": float(joint[i]),
            }
            for i in order[: MAX_ALTERNATIVES + 1]
            if i != fine_position
        ][:MAX_ALTERNATIVES]
        return Prediction(
            coarse=self.coarse_labels[coarse_position],
            coarse_confidence=float(coarse[coarse_position]),
            fine=self.fine_labels[fine_position],
            fine_confidence=float(joint[fine_position]),
            alternatives=alternatives,
            explanation=(
                self._explain(text, *row, coarse_position, fine_position) if explain else []
            ),
        )

    def predict_many(self, texts: Sequence[str], *, explain: bool = True) -> list[Prediction]:
        """Classify a batch of questions with one vectorised transform."""
        texts = [str(text) for text in texts]
        if not texts:
            return []
        if len(texts) == 1 and self._fast_single():
            columns, values, _ = self._row(texts[0])
            coarse = self._coarse_head.softmax(self._coarse_head.row_scores(columns, values))
            fine = self._fine_head.softmax(self._fine_head.row_scores(columns, values))
            coarse, fine = self._blend(*self._mix(texts, coarse, fine))
            joint = self._joint_fine(coarse, fine)
            coarse_at, fine_at = self._decide(coarse, joint)
            positions = (int(coarse_at[0]), int(fine_at[0]))
            return [
                self._build(texts[0], (columns, values), coarse[0], joint[0], positions, explain)
            ]
        matrix = self._transform(texts)
        matrix.sort_indices()
        coarse, fine = self._probabilities(matrix, texts)
        joint = self._joint_fine(coarse, fine)
        coarse_at, fine_at = self._decide(coarse, joint)
        rows = [
            (matrix.indices[start:end], matrix.data[start:end])
            for start, end in zip(matrix.indptr[:-1], matrix.indptr[1:], strict=True)
        ]
        return [
            self._build(
                text, rows[i], coarse[i], joint[i], (int(coarse_at[i]), int(fine_at[i])), explain
            )
            for i, text in enumerate(texts)
        ]

    def predict(self, text: str) -> Prediction:
        """Classify one question."""
        return self.predict_many([text])[0]

    def predict_labels(self, texts: Sequence[str]) -> LabelBatch:
        """The labels ``predict_many`` would give, decided for the whole batch at once.

        Building a Prediction per row (alternatives, explanation) costs several times the
        model itself; comparing versions over many stored questions needs only the labels.
        """
        texts = [str(text) for text in texts]
        if not texts:
            return LabelBatch([], [], [], [])
        return self.label_batch(*self._probabilities(self._transform(texts), texts))

    def label_batch(self, coarse: np.ndarray, fine: np.ndarray) -> LabelBatch:
        """The labels and confidences decided from blended coarse and fine probabilities."""
        joint = self._joint_fine(coarse, fine)
        coarse_positions, fine_positions = self._decide(coarse, joint)
        rows = np.arange(len(coarse))
        return LabelBatch(
            coarse=[self.coarse_labels[i] for i in coarse_positions],
            coarse_confidence=coarse[rows, coarse_positions].tolist(),
            fine=[self.fine_labels[i] for i in fine_positions],
            fine_confidence=joint[rows, fine_positions].tolist(),
        )
