"""Validate a question, classify it and store the query with its prediction."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from training import normalise_question, taxonomy

from ...extensions import db
from ...models import Prediction, Query, new_public_token, utcnow
from .classifier import LoadedModel
from .doubt import is_confident
from .scope import check_scope, scope_dict
from .user_text import InvalidText, check_encodable, clean_text, has_visible_character


class InvalidQuestion(ValueError):
    """A question that breaks the input rules; the message is shown to the user."""

    def __init__(self, message: str, code: str = "invalid_question"):
        super().__init__(message)
        self.message = message
        self.code = code


def clean_question(text: str) -> str:
    """The text as it will be stored: controls, reordering bidi controls and tags removed."""
    return clean_text(text)


def validate_question(value: Any, max_length: int | None = None) -> str:
    """Return the cleaned question or raise InvalidQuestion saying what is wrong with it."""
    if max_length is None:
        max_length = current_app.config["QUESTION_MAX_LENGTH"]
    if not isinstance(value, str):
        raise InvalidQuestion("A question must be a string of text.", "invalid_type")
    cleaned = clean_question(value)
    try:
        check_encodable(cleaned, "question")
    except InvalidText as error:
        raise InvalidQuestion(error.message, error.code) from None
    length = len(cleaned.strip())
    if length == 0:
        raise InvalidQuestion("Please type a question.", "empty_question")
    if not has_visible_character(cleaned):
        raise InvalidQuestion(
            "The question has no visible characters (only spaces or invisible ones).",
            "invisible_question",
        )
    if length > max_length:
        raise InvalidQuestion(
            f"A question may be at most {max_length} characters long; this one has {length}.",
            "question_too_long",
        )
    return cleaned


def client_fingerprint(remote_addr: str | None) -> str | None:
    """A keyed hash of the client address: enough to group requests, without storing the address."""
    if not remote_addr:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hashlib.blake2b(remote_addr.encode(), key=key[:64], digest_size=16).hexdigest()


@dataclass(frozen=True)
class RecordedPrediction:
    """The stored prediction's values, without an ORM object (the hot path returns these)."""

    coarse: str
    fine: str
    coarse_confidence: float
    fine_confidence: float
    scores: dict[str, Any]


@dataclass(frozen=True)
class Classified:
    """A stored query with its prediction, ready to be shown or serialised."""

    id: int
    token: str
    question: str
    prediction: RecordedPrediction
    model_version: str
    in_scope: bool = True
    scope_reason: str | None = None


def classify_and_record(
    questions: list[str], model: LoadedModel, *, source: str, client_hash: str | None
) -> list[Classified]:
    """Classify validated questions; store each Query and its Prediction in one transaction."""
    started = time.perf_counter()
    predictions = model.classifier.predict_many(questions)
    verdicts = check_scope(questions, model.scope)
    latency_ms = round((time.perf_counter() - started) * 1000 / max(len(questions), 1), 3)
    now = utcnow()
    query_rows = [
        {
            "token": new_public_token(),
            "text": text,
            "normalized": normalise_question(text)[:600],
            "created_at": now,
            "client_hash": client_hash,
            "source": source,
            "latency_ms": latency_ms,
            "in_scope": verdict.in_scope,
            "scope_reason": None if verdict.in_scope else verdict.reason,
        }
        for text, verdict in zip(questions, verdicts, strict=True)
    ]
    recorded = [
        RecordedPrediction(
            coarse=predicted.coarse,
            fine=predicted.fine,
            coarse_confidence=float(predicted.coarse_confidence),
            fine_confidence=float(predicted.fine_confidence),
            scores={
                "alternatives": predicted.alternatives,
                "explanation": predicted.explanation,
                "label_source": getattr(predicted, "label_source", "model"),
            },
        )
        for predicted in predictions
    ]
    # Core inserts: this is the hot path, and the ORM's unit of work would double its cost.
    connection = db.session.connection()
    if len(query_rows) == 1:  # one request, one question: the driver's row id is cheapest
        ids = [connection.execute(insert(Query.__table__), query_rows[0]).inserted_primary_key[0]]
    else:
        ids = connection.scalars(
            insert(Query.__table__).returning(Query.id, sort_by_parameter_order=True), query_rows
        ).all()
    connection.execute(
        insert(Prediction.__table__),
        [
            {
                "query_id": query_id,
                "model_version_id": model.id,
                "coarse": item.coarse,
                "fine": item.fine,
                "coarse_confidence": item.coarse_confidence,
                "fine_confidence": item.fine_confidence,
                "margin": prediction_margin(item.fine_confidence, item.scores["alternatives"]),
                "scores": item.scores,
            }
            for query_id, item in zip(ids, recorded, strict=True)
        ],
    )
    db.session.commit()
    return [
        Classified(
            query_id,
            row["token"],
            row["text"],
            item,
            model.version,
            row["in_scope"],
            row["scope_reason"],
        )
        for query_id, row, item in zip(ids, query_rows, recorded, strict=True)
    ]


def prediction_margin(fine_confidence: float, alternatives: list[dict]) -> float:
    """How far the chosen fine label leads the runner-up (the whole confidence without one);
    0 when another fine class gets more (the answer's coarse class won, not the label)."""
    runner_up = max((float(a["confidence"]) for a in alternatives), default=0.0)
    return round(max(0.0, float(fine_confidence) - runner_up), 6)


def label_dict(label: str, confidence: float | None) -> dict[str, Any]:
    """A label with its readable name and, when known, its confidence."""
    info = taxonomy.describe(label)
    body: dict[str, Any] = {"label": label, "name": info.name}
    if confidence is not None:
        body["confidence"] = round(float(confidence), 4)
    return body


def prediction_dict(prediction: Prediction | RecordedPrediction) -> dict[str, Any]:
    """The labels, alternatives and explanation of a stored prediction."""
    scores = prediction.scores or {}
    return {
        "label_source": scores.get("label_source", "model"),
        "confident": is_confident(prediction.fine_confidence, scores.get("alternatives", [])),
        "coarse": label_dict(prediction.coarse, prediction.coarse_confidence),
        "fine": label_dict(prediction.fine, prediction.fine_confidence),
        "alternatives": [
            {
                "label": alternative["fine"],
                "name": taxonomy.describe(alternative["fine"]).name,
                "coarse": alternative["coarse"],
                "confidence": round(float(alternative["confidence"]), 4),
            }
            for alternative in scores.get("alternatives", [])
        ],
        "explanation": [
            {
                "word": item["word"],
                "start": int(item["start"]),
                "end": int(item["end"]),
                "weight": round(float(item["weight"]), 4),
            }
            for item in scores.get("explanation", [])
        ],
    }


def current_answer(text: str, served: Any | None) -> dict[str, Any] | None:
    """What the served model (with its approved overrides) answers for ``text`` now."""
    if served is None:
        return None
    answer = served.classifier.predict(text)
    return {
        "coarse": label_dict(answer.coarse, answer.coarse_confidence),
        "fine": label_dict(answer.fine, answer.fine_confidence),
        "model_version": served.version,
    }


def classified_dict(item: Classified) -> dict[str, Any]:
    """The API's answer for one classified question."""
    return {
        "id": item.token,
        "url": query_path(item.token),
        "question": item.question,
        **prediction_dict(item.prediction),
        **scope_dict(item.in_scope, item.scope_reason),
        "model_version": item.model_version,
    }


# What new_public_token makes; anything else cannot be a query's handle and is not looked up.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,32}")
_WITH_ANSWERS = (selectinload(Query.prediction), selectinload(Query.corrections))


def query_path(token: str) -> str:
    """The query's page, as a path on this server (never built from the request's Host)."""
    return f"/q/{token}"


def query_by_token(token: str) -> Query | None:
    """The query whose public handle is ``token``, with its prediction and corrections."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    return db.session.scalar(select(Query).where(Query.token == token).options(*_WITH_ANSWERS))


def query_by_internal_id(handle: str) -> Query | None:
    """The query whose integer id is ``handle`` (digits only); for admins, never the public."""
    if not handle.isdigit() or len(handle) > 10 or int(handle) > 2**31 - 1:
        return None
    return db.session.get(Query, int(handle))
