"""The scope check: is a text an English question the taxonomy can answer, and if not, why not.

A logistic regression on character n-grams and a few shape features (script, digits, symbols,
code and address markers, how word-like the letters are) scores how likely a text is out of
scope. Its threshold is set on data: the score that refuses at most ``MAX_REFUSED`` of the
in-scope questions scored out of fold. Text without a single letter is never a question.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from training.data import OUT_OF_SCOPE_PATH
from training.data.datasets import normalise_question
from training.question_features.fast_tfidf import tfidf_row, tfidf_rows

# Share of real questions the chosen threshold may refuse, out of fold (the target is 1%;
# half of it leaves room for questions unlike the training set's).
MAX_REFUSED = 0.005
THRESHOLD_FOLDS = 5

QUESTION_STARTERS = frozenset(
    "what which who whom whose where when why how name list give tell define describe "
    "is are was were do does did can could will would should shall may might has have had "
    "in on at for from by of to during according after before about between".split()
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_URL = re.compile(
    r"(https?://|ftp://|www\.|mailto:|\b[\w.-]+@[\w-]+\.\w|\b\w[\w-]*\.(com|org|net|io|ly|co|html?|"
    r"csv|txt|docx?|jpe?g|png|zip|py)\b|^[@#]\w|[a-z]:\\|^~?/\w+/|\b\d{1,3}(\.\d{1,3}){3}\b)",
    re.IGNORECASE,
)
_CODE = re.compile(
    r"(;\s*$|[{}]|=>|==|\+=|\+\+|&&|\|\||::|</?\w+[^>]*>|\w+\([^()]*\)\s*[:;{]?|^\s*[#$]|"
    r"^\s*(import|def|SELECT|INSERT|UPDATE|DROP|print|const|let|var|sudo|pip|npm|git)\b|"
    r"\b(null|undefined|NaN|Traceback|Error)\b)"
)
_ARITHMETIC = re.compile(r"\d\s*[-+*/^×÷x]\s*\d|\d\s*=\s*\?|^\s*=")
_VOWELS = frozenset("aeiouyAEIOUY")
_CONSONANTS = re.compile(r"[bcdfghjklmnpqrstvwxzBCDFGHJKLMNPQRSTVWXZ]+")
_PUNCTUATION = frozenset("?.,'\"!-:;()")
_SYMBOL_CATEGORIES = frozenset({"So", "Sk", "Cs"})


@dataclass(frozen=True)
class ScopeVerdict:
    """Whether a text is in scope, a reason code, and the out-of-scope score behind it."""

    in_scope: bool
    reason: str
    score: float


REASONS = {
    "english_question": "It reads as an English question.",
    "no_words": "It has no words, only symbols, digits or emoji.",
    "other_script": "It is not written in English.",
    "not_english": "It does not read as an English question.",
    "code": "It looks like program code, not a question.",
    "web_address": "It looks like a web address, file name or handle, not a question.",
    "arithmetic": "It looks like a sum to work out; the classifier names the kind of "
    "answer a question expects, it does not calculate.",
    "gibberish": "Its letters do not form words.",
    "discarded": "A reviewer marked this text as not a question.",
}


def _letters(text: str) -> list[str]:
    return [char for char in text if char.isalpha()]


def _is_latin(char: str) -> bool:
    return char.isascii() or "LATIN" in unicodedata.name(char, "")


def _consonant_run(text: str) -> int:
    """The longest run of ASCII consonants (y counts as a vowel)."""
    return max(map(len, _CONSONANTS.findall(text)), default=0)


def shape_features(text: str, vocabulary: frozenset[str] = frozenset()) -> list[float]:
    """A dozen numbers in [0, 1] about how the text is written (script, symbols, words)."""
    visible = "".join(text.split())
    count = max(len(visible), 1)
    letters = "".join(filter(str.isalpha, visible))
    letter_count = max(len(letters), 1)
    # Serving checks every request: plain ASCII (most questions) skips the per-character
    # Unicode look-ups, which cost more than the rest together.
    if visible.isascii():
        ascii_letters, latin, emoji = letters, len(letters), 0
    else:
        ascii_letters = "".join(char for char in letters if char.isascii())
        latin = sum(map(_is_latin, letters))
        emoji = sum(1 for char in visible if unicodedata.category(char) in _SYMBOL_CATEGORIES)
    words = _WORD.findall(text)
    known = sum(word.lower() in vocabulary for word in words) / max(len(words), 1)
    symbols = sum(1 for char in visible if not char.isalnum() and char not in _PUNCTUATION)
    return [
        len(letters) / count,
        latin / letter_count,
        len(ascii_letters) / letter_count,
        sum(map(str.isdigit, visible)) / count,
        symbols / count,
        emoji / count,
        min(math.log1p(len(words)) / 3.5, 1.0),
        float(visible.endswith("?")),
        float(bool(words) and words[0].lower() in QUESTION_STARTERS),
        float(bool(_CODE.search(text))),
        float(bool(_URL.search(text))),
        float(bool(_ARITHMETIC.search(text))),
        sum(map(_VOWELS.__contains__, ascii_letters)) / max(len(ascii_letters), 1),
        min(_consonant_run(text) / 8, 1.0),
        known,
    ]


def reason_for(text: str) -> str:
    """The most telling reason an out-of-scope text is out of scope."""
    letters = _letters(text)
    if not letters:
        return "no_words"
    if sum(map(_is_latin, letters)) / len(letters) < 0.5:
        return "other_script"
    if _URL.search(text):
        return "web_address"
    if _CODE.search(text):
        return "code"
    if _ARITHMETIC.search(text):
        return "arithmetic"
    # Unknown words alone do not make gibberish (another language has them too); letters that
    # cannot be pronounced do.
    ascii_letters = [char for char in letters if char.isascii()]
    vowels = sum(char in _VOWELS for char in ascii_letters)
    if _consonant_run(text) >= 5 or (len(ascii_letters) >= 4 and vowels < 0.2 * len(ascii_letters)):
        return "gibberish"
    return "not_english"


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 3), lowercase=True, sublinear_tf=True, min_df=2,
        dtype=np.float64,
    )


class ScopeModel:
    """Character n-grams and shape features scored by a logistic regression."""

    def __init__(self, seed: int = 0, threshold: float = 0.5):
        self.seed = seed
        self.threshold = threshold
        self.metrics: dict[str, float] = {}
        # Normalised texts reviewers discarded: refused as they are, whatever their score.
        self.discarded: frozenset[str] = frozenset()

    def fit(self, texts: Sequence[str], out_of_scope: Sequence[int]) -> ScopeModel:
        """Fit on texts labelled 1 (out of scope) or 0 (an English question)."""
        labels = np.asarray(out_of_scope)
        self.vocabulary = frozenset(
            word.lower()
            for text, label in zip(texts, labels, strict=True)
            if label == 0
            for word in _WORD.findall(text)
        )
        self.vectorizer = _vectorizer().fit(texts)
        matrix = self._matrix(texts)
        self.model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
        self.model.fit(matrix, labels)
        width = len(self.vectorizer.vocabulary_)
        self._char_weights = self.model.coef_[0, :width].copy()
        self._shape_weights = self.model.coef_[0, width:].copy()
        self._intercept = float(self.model.intercept_[0])
        return self

    def _matrix(self, texts: Sequence[str]) -> sparse.csr_matrix:
        shapes = np.array([shape_features(text, self.vocabulary) for text in texts])
        return sparse.hstack(
            [tfidf_rows(self.vectorizer, texts), sparse.csr_matrix(shapes)], format="csr"
        )

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Out-of-scope probability of each text (texts without letters score 1)."""
        texts = [str(text) for text in texts]
        if not texts:
            return np.empty(0)
        if len(texts) == 1:  # serving's case: no sparse matrix for a single row
            columns, values = tfidf_row(self.vectorizer, texts[0])
            raw = float(values @ self._char_weights[columns]) + self._intercept
            raw += float(np.dot(self._shape_weights, shape_features(texts[0], self.vocabulary)))
            probabilities = np.array([1.0 / (1.0 + math.exp(-raw))])
        else:
            probabilities = self.model.predict_proba(self._matrix(texts))[:, 1]
        no_letters = np.array([not any(char.isalpha() for char in text) for text in texts])
        return np.where(no_letters, 1.0, probabilities)

    def check_many(self, texts: Sequence[str]) -> list[ScopeVerdict]:
        """The verdict on each text."""
        verdicts = []
        discarded = getattr(self, "discarded", frozenset())  # none in models saved before
        for text, score in zip(texts, self.scores(texts), strict=True):
            if discarded and normalise_question(text) in discarded:
                verdicts.append(ScopeVerdict(False, "discarded", round(float(score), 4)))
                continue
            out = bool(score >= self.threshold)
            reason = reason_for(text) if out else "english_question"
            verdicts.append(ScopeVerdict(not out, reason, round(float(score), 4)))
        return verdicts

    def check(self, text: str) -> ScopeVerdict:
        """The verdict on one text."""
        return self.check_many([text])[0]


def threshold_for(in_scope_scores: np.ndarray, max_refused: float = MAX_REFUSED) -> float:
    """The lowest threshold that refuses at most ``max_refused`` of the in-scope scores."""
    ordered = np.sort(in_scope_scores)[::-1]
    allowed = int(math.floor(max_refused * len(ordered)))
    # Refuse strictly fewer than allowed + 1: sit just above the (allowed + 1)-th highest score.
    return float(min(np.nextafter(ordered[allowed], 1.0), 1.0)) if len(ordered) else 0.5


def out_of_fold_scores(
    texts: Sequence[str], labels: Sequence[int], folds: int = THRESHOLD_FOLDS, seed: int = 0
) -> np.ndarray:
    """Each text's out-of-scope score from a model that did not see it."""
    texts, labels = list(texts), np.asarray(labels)
    scores = np.zeros(len(texts))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(texts, labels):
        model = ScopeModel(seed).fit([texts[i] for i in train_index], labels[train_index])
        scores[test_index] = model.scores([texts[i] for i in test_index])
    return scores


def fit_scope_model(
    questions: Sequence[str],
    out_of_scope: Sequence[str],
    *,
    discarded: Sequence[str] = (),
    max_refused: float = MAX_REFUSED,
    seed: int = 0,
) -> ScopeModel:
    """Fit on all data, with the threshold chosen on out-of-fold scores of the questions.

    ``discarded`` are texts reviewers set aside as not questions: out-of-scope examples that
    teach the model their like, and refused as they are from then on."""
    out_of_scope = list(out_of_scope) + list(discarded)
    texts = list(questions) + out_of_scope
    labels = np.array([0] * len(questions) + [1] * len(out_of_scope))
    scores = out_of_fold_scores(texts, labels, seed=seed)
    threshold = threshold_for(scores[labels == 0], max_refused)
    model = ScopeModel(seed, threshold).fit(texts, labels)
    model.metrics = {
        "threshold": threshold,
        "out_of_fold_recall": float(np.mean(scores[labels == 1] >= threshold)),
        "out_of_fold_refused": float(np.mean(scores[labels == 0] >= threshold)),
        "questions": len(questions),
        "out_of_scope": len(out_of_scope),
        "discarded": len(discarded),
    }
    model.discarded = frozenset(normalise_question(text) for text in discarded)
    return model


def load_out_of_scope(path: Path = OUT_OF_SCOPE_PATH) -> list[tuple[str, str]]:
    """The bundled out-of-scope set as (kind, text) pairs."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [(row["kind"], row["text"]) for row in csv.DictReader(handle)]
