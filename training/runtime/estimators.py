"""Estimator helpers: a kernel SVC that is fast on sparse text and compact linear heads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC, LinearSVC


class LinearKernelSVC(ClassifierMixin, BaseEstimator):
    """SVC with a linear kernel computed once as a Gram matrix.

    libsvm evaluates sparse kernels row by row, which is slow on TF-IDF matrices with
    many columns; a precomputed Gram matrix gives the same model much faster.
    """

    def __init__(self, C: float = 1.0) -> None:
        self.C = C

    def fit(self, X: sparse.spmatrix, y: np.ndarray) -> LinearKernelSVC:
        """Fit the SVC on the Gram matrix of X."""
        self.train_ = sparse.csr_matrix(X)
        gram = (self.train_ @ self.train_.T).toarray()
        self.svc_ = SVC(kernel="precomputed", C=self.C).fit(gram, y)
        self.classes_ = self.svc_.classes_
        return self

    def _kernel(self, X: sparse.spmatrix) -> np.ndarray:
        """Linear kernel between X and the training rows."""
        return (sparse.csr_matrix(X) @ self.train_.T).toarray()

    def predict(self, X: sparse.spmatrix) -> np.ndarray:
        """Predict from the kernel between X and the training rows."""
        return self.svc_.predict(self._kernel(X))

    def decision_function(self, X: sparse.spmatrix) -> np.ndarray:
        """One-vs-rest shaped decision scores, used by probability calibration."""
        return self.svc_.decision_function(self._kernel(X))


@dataclass
class LinearHead:
    """A multinomial linear scorer: softmax(beta * (X @ W + b)); cheap for single rows."""

    classes: np.ndarray
    # (n_features, n_classes), C-contiguous float32: sparse @ dense then needs no copy of W,
    # which dominated single-question latency, and the artifact is half the size.
    weights: np.ndarray
    bias: np.ndarray
    beta: float = 1.0

    def scores(self, X: sparse.spmatrix) -> np.ndarray:
        """Raw linear scores of each class."""
        product = sparse.csr_matrix(X, dtype=np.float32) @ self.weights
        return np.asarray(product, dtype=np.float64) + self.bias

    def row_scores(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Raw scores of one row given as column indices and values, shape (1, n_classes)."""
        product = values.astype(np.float32) @ self.weights[columns]
        return np.asarray(product, dtype=np.float64)[np.newaxis, :] + self.bias

    def predict_proba(self, X: sparse.spmatrix) -> np.ndarray:
        """Class probabilities, rows summing to one."""
        return self.softmax(self.scores(X))

    def softmax(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities from raw scores (changed in place)."""
        logits = scores
        logits *= self.beta
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits


def _as_columns(coef: np.ndarray) -> np.ndarray:
    """Class weights as contiguous float32 columns (n_features, n_classes)."""
    return np.ascontiguousarray(np.asarray(coef, dtype=np.float32).T)


def _two_class_rows(coef: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Binary linear models keep one row; expand to (-w, w) so both classes get a row."""
    if coef.shape[0] == 1:
        return np.vstack([-coef, coef]) / 2, np.concatenate([-intercept, intercept]) / 2
    return coef, intercept


def linear_head(estimator: object) -> LinearHead | None:
    """A LinearHead equivalent to a fitted linear model, or None for non-linear models."""
    if isinstance(estimator, LogisticRegression):
        # Binary logistic P(1) = sigmoid(s) equals softmax of (-s/2, s/2).
        coef, intercept = _two_class_rows(estimator.coef_, estimator.intercept_)
        return LinearHead(estimator.classes_, _as_columns(coef), intercept, 1.0)
    if isinstance(estimator, LinearSVC):
        coef, intercept = _two_class_rows(estimator.coef_, estimator.intercept_)
        if estimator.coef_.shape[0] == 1:
            # Temperature scaling treats a binary score s as the logits (-s, s).
            coef, intercept = coef * 2, intercept * 2
        return LinearHead(estimator.classes_, _as_columns(coef), intercept, 1.0)
    if isinstance(estimator, CalibratedClassifierCV) and estimator.method == "temperature":
        if len(estimator.calibrated_classifiers_) == 1:
            calibrated = estimator.calibrated_classifiers_[0]
            head = linear_head(calibrated.estimator)
            if head is not None:
                head.beta = float(calibrated.calibrators[0].beta_)
                return head
    return None


def explainer_weights(estimator: object) -> LinearHead | None:
    """Per-class linear weights usable for explanations, averaged over calibration folds."""
    head = linear_head(estimator)
    if head is not None or not isinstance(estimator, CalibratedClassifierCV):
        return head
    heads = [linear_head(c.estimator) for c in estimator.calibrated_classifiers_]
    if any(h is None for h in heads):
        return None
    weights = np.mean([h.weights for h in heads], axis=0).astype(np.float32)
    bias = np.mean([h.bias for h in heads], axis=0)
    return LinearHead(heads[0].classes, weights, bias, 1.0)


def temperature_scaled(fitted: object, beta: float, n_features: int) -> object | None:
    """A fitted model wrapped as CalibratedClassifierCV(method="temperature") with a known
    temperature, as if calibrated without cross-validation folds; None when this scikit-learn
    lays its calibrated models out differently (the caller then calibrates as usual).

    A refit keeps the hyperparameters of an earlier selection and fits on nearly the same rows,
    so the temperature calibrated then still holds; reusing it saves six of eight fits.
    """
    try:
        from sklearn.calibration import _CalibratedClassifier, _TemperatureScaling

        scaling = _TemperatureScaling()
        scaling.beta_ = float(beta)
        model = CalibratedClassifierCV(fitted, method="temperature", ensemble=False)
        model.calibrated_classifiers_ = [
            _CalibratedClassifier(fitted, [scaling], classes=fitted.classes_, method="temperature")
        ]
        model.classes_ = fitted.classes_
        model.n_features_in_ = n_features
    except (ImportError, AttributeError, TypeError):
        return None
    return model
