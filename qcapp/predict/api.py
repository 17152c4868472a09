"""The JSON API under /api/v1: classify, labels, stored queries, and its OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
)

from ..errors import error_response
from ..extensions import csrf
from ..models import Query
from ..services.learning.provenance import correction_outcomes
from ..services.review.feedback import InvalidCorrection, propose_correction
from ..services.review.label_help import labels_with_help
from ..services.serving.queries import (
    InvalidQuestion,
    classified_dict,
    classify_and_record,
    client_fingerprint,
    prediction_dict,
    query_by_token,
    query_path,
    validate_question,
)
from ..services.serving.scope import scope_dict
from ..services.serving.user_text import rfc3339
from .openapi import build_openapi_document
from .reference import REFERENCE_ASSETS, REFERENCE_VERSION, reference_assets_path

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


class ApiError(Exception):
    """A client error the API reports as ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@bp.errorhandler(ApiError)
def handle_api_error(error: ApiError):
    return error_response(error.status, error.message, error.code)


def read_json_object(allowed_keys: set[str]) -> dict[str, Any]:
    """The request body as a JSON object, or an ApiError that says what is wrong with it."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_encoding", "The body is not valid UTF-8.") from None
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "The body must be a JSON object.")
    unknown = sorted(set(body) - allowed_keys)
    if unknown:
        raise ApiError(400, "unknown_field", f"Unknown field(s): {', '.join(unknown)}.")
    return body


def questions_from_body(body: dict[str, Any]) -> tuple[list[str], bool]:
    """The validated questions of a classify request, and whether it was a batch."""
    if ("question" in body) == ("questions" in body):
        raise ApiError(400, "invalid_body", 'Send either "question" or "questions".')
    if "question" in body:
        return [validate_or_raise(body["question"])], False
    items = body["questions"]
    limit = current_app.config["API_BATCH_LIMIT"]
    if not isinstance(items, list):
        raise ApiError(400, "invalid_type", '"questions" must be a list of strings.')
    if not 1 <= len(items) <= limit:
        raise ApiError(
            400,
            "invalid_batch_size",
            f'"questions" must hold 1 to {limit} items, not {len(items)}.',
        )
    questions = []
    for position, item in enumerate(items):
        try:
            questions.append(validate_or_raise(item))
        except ApiError as error:
            error.message = f"questions[{position}]: {error.message}"
            raise
    return questions, True


def validate_or_raise(value: Any) -> str:
    try:
        return validate_question(value)
    except InvalidQuestion as error:
        raise ApiError(400, error.code, error.message) from None


@bp.post("/classify")
def classify():
    body = read_json_object({"question", "questions"})
    questions, is_batch = questions_from_body(body)
    model = current_app.extensions["qc_models"].get()
    items = classify_and_record(
        questions, model, source="api", client_hash=client_fingerprint(request.remote_addr)
    )
    if is_batch:
        return jsonify(results=[classified_dict(item) for item in items])
    return jsonify(classified_dict(items[0]))


@bp.get("/labels")
def labels():
    return jsonify(labels=labels_with_help())


def public_query(token: str) -> Query:
    """The query with this public handle, or a 404: integer ids are never accepted here."""
    query = query_by_token(token)
    if query is None:
        raise ApiError(404, "not_found", "There is no query with this id.")
    return query


@bp.get("/queries/<token>")
def get_query(token: str):
    return jsonify(query_dict(public_query(token)))


def query_dict(query: Query) -> dict[str, Any]:
    """A stored query with its prediction and corrections, and what became of each correction."""
    outcomes = correction_outcomes(query, current_app.extensions["qc_models"].get_or_none)
    prediction = query.prediction
    return {
        "id": query.token,
        "url": query_path(query.token),
        "question": query.text,
        "created_at": rfc3339(query.created_at),
        **scope_dict(query.in_scope, query.scope_reason),
        "prediction": (
            {
                **prediction_dict(prediction),
                "model_version": prediction.model_version.version
                if prediction.model_version
                else None,
            }
            if prediction
            else None
        ),
        "corrections": [
            {**correction_dict(outcome.correction), **outcome.as_dict()} for outcome in outcomes
        ],
    }


@bp.post("/queries/<token>/corrections")
def create_correction(token: str):
    body = read_json_object({"coarse", "fine", "note", "kind"})
    query = public_query(token)
    try:
        correction = propose_correction(
            query,
            body.get("coarse"),
            body.get("fine"),
            client_hash=client_fingerprint(request.remote_addr),
            note=body.get("note"),
            meant=body.get("kind"),
        )
    except InvalidCorrection as error:
        status = 409 if error.code == "already_reviewed" else 400
        raise ApiError(status, error.code, error.message) from None
    return jsonify(correction_dict(correction)), 201


def correction_dict(correction) -> dict[str, Any]:
    return {
        "id": correction.token,
        "query_id": correction.query.token,
        "kind": correction.kind,
        "coarse": correction.coarse,
        "fine": correction.fine,
        "status": correction.status,
        "created_at": rfc3339(correction.created_at),
    }


def openapi_document() -> dict:
    config = current_app.config
    return build_openapi_document(config["QUESTION_MAX_LENGTH"], config["API_BATCH_LIMIT"])


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


# The examples' address when no PUBLIC_URL is set: a fixed example, never the request's Host
# header, which a client (or a poisoned cache in front of the site) chooses.
EXAMPLE_BASE_URL = "http://127.0.0.1:5000"


@bp.get("/docs")
def docs():
    public_url = current_app.config["PUBLIC_URL"]
    return render_template(
        "predict/api_docs.html",
        spec=openapi_document(),
        reference_version=REFERENCE_VERSION,
        base_url=public_url or EXAMPLE_BASE_URL,
        public_url=public_url,
    )


@bp.get("/docs/assets/<name>")
def docs_asset(name: str):
    """Swagger UI's script and style sheet, from the installed distribution (never a CDN)."""
    if name not in REFERENCE_ASSETS:
        raise ApiError(404, "not_found", "There is no such file.")
    return send_from_directory(reference_assets_path(), name, max_age=24 * 3600)
