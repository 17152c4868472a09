"""The OpenAPI parts of the scope check and the example bodies the reference page shows."""

from __future__ import annotations

from typing import Any

from training import SCOPE_REASONS as REASONS

SCOPE_FIELDS = ["in_scope", "scope"]


def scope_properties() -> dict[str, Any]:
    """``in_scope`` and ``scope``: whether the text is an English question, and why (not)."""
    return {
        "in_scope": {
            "type": "boolean",
            "description": "False when the text is not an English question the taxonomy can "
            "answer (another language, symbols only, code, an address, gibberish, a sum); "
            "the labels are then the model's meaningless best guess and should not be shown "
            "as an answer.",
        },
        "scope": {
            "type": "object",
            "required": ["reason", "message"],
            "properties": {
                "reason": {"type": "string", "enum": list(REASONS)},
                "message": {"type": "string", "description": "The reason in words."},
            },
        },
    }


def confident_property() -> dict[str, Any]:
    """``confident``: whether the fine label is given as an answer or as a guess."""
    return {
        "confident": {
            "type": "boolean",
            "description": "False when the fine confidence is below 0.4, or when an "
            "alternative's is higher (the answer then comes from the most likely coarse class): "
            "the answer is then a guess among the first alternatives.",
        }
    }


_LABEL = {"label": "HUM:ind", "name": "Individual", "confidence": 0.9412}
CLASSIFICATION_EXAMPLE = {
    "id": 1234,
    "question": "Who painted the Mona Lisa?",
    "label_source": "model",
    "confident": True,
    "coarse": {"label": "HUM", "name": "Human being", "confidence": 0.9731},
    "fine": _LABEL,
    "alternatives": [
        {"label": "HUM:gr", "name": "Group or organisation", "coarse": "HUM", "confidence": 0.031},
        {
            "label": "HUM:desc",
            "name": "Description of a person",
            "coarse": "HUM",
            "confidence": 0.0126,
        },
    ],
    "explanation": [{"word": "Who", "start": 0, "end": 3, "weight": 1.2031}],
    "in_scope": True,
    "scope": {"reason": "english_question", "message": REASONS["english_question"]},
    "model_version": "20261201-101500-quick",
}
OUT_OF_SCOPE_EXAMPLE = {
    **CLASSIFICATION_EXAMPLE,
    "id": 1235,
    "question": "¿Quién pintó la Mona Lisa?",
    "confident": False,
    "fine": {"label": "DESC:def", "name": "Definition", "confidence": 0.2214},
    "in_scope": False,
    "scope": {"reason": "not_english", "message": REASONS["not_english"]},
}
CLASSIFY_REQUEST_EXAMPLES = {
    "one": {"summary": "One question", "value": {"question": "Who painted the Mona Lisa?"}},
    "batch": {
        "summary": "A batch (1 to 100)",
        "value": {"questions": ["Who painted the Mona Lisa?", "How far is Paris from Rome?"]},
    },
}
CLASSIFY_RESPONSE_EXAMPLES = {
    "one": {"summary": "An English question", "value": CLASSIFICATION_EXAMPLE},
    "out_of_scope": {"summary": "Not an English question", "value": OUT_OF_SCOPE_EXAMPLE},
    "batch": {"summary": "A batch", "value": {"results": [CLASSIFICATION_EXAMPLE]}},
}
CORRECTION_REQUEST_EXAMPLES = {
    "correction": {
        "summary": "The model is wrong: propose other labels",
        "value": {
            "coarse": "LOC", "fine": "LOC:city", "kind": "correction", "note": "It asks for a city."
        },
    },
    "confirmation": {
        "summary": "The model is right: confirm its labels (send the same labels)",
        "value": {"coarse": "HUM", "fine": "HUM:ind", "kind": "confirmation"},
    },
}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


ERROR_EXAMPLES = {
    400: _error(
        "question_too_long", "A question may be at most 500 characters long; this one has 612."
    ),
    404: _error("not_found", "There is no such query."),
    409: _error(
        "already_reviewed", "Your earlier answer on this question has already been reviewed."
    ),
    413: _error("payload_too_large", "The request is too large."),
    415: _error("unsupported_media_type", "Send the body as application/json."),
    429: _error("rate_limited", "Too many requests; slow down and try again shortly."),
    503: _error("model_unavailable", "No model is available yet."),
}
