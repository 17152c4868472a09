"""The OpenAPI 3 description of /api/v1, built from the taxonomy so the label enums stay true."""

from __future__ import annotations

from typing import Any

from training import taxonomy

from ..services.serving.user_text import VISIBLE_CHARACTER_PATTERN
from .openapi_corrections import correction_schemas
from .openapi_scope import (
    CLASSIFY_REQUEST_EXAMPLES,
    CLASSIFY_RESPONSE_EXAMPLES,
    CORRECTION_REQUEST_EXAMPLES,
    ERROR_EXAMPLES,
    SCOPE_FIELDS,
    confident_property,
    scope_properties,
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_responses(*statuses: int) -> dict[str, Any]:
    descriptions = {
        400: "Invalid input",
        404: "Not found",
        409: "This client's earlier answer on the query was already reviewed",
        413: "Body larger than 1 MiB",
        415: "Body is not application/json",
        429: "Rate limit reached",
        503: "No model can be served",
    }
    return {
        str(status): {
            "description": descriptions[status],
            "content": {
                "application/json": {"schema": _ref("Error"), "example": ERROR_EXAMPLES[status]}
            },
        }
        for status in statuses
    }


# A query's public handle: random and URL-safe; integer ids are never accepted.
QUERY_TOKEN = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_-]{16,32}$",
    "description": "The query's unguessable public id, as returned by classify.",
}
QUERY_URL = {
    "type": "string",
    "format": "uri-reference",
    "description": "The query's page on this server (a path: /q/{id}).",
}


def _token_parameter() -> dict[str, Any]:
    return {"name": "token", "in": "path", "required": True, "schema": QUERY_TOKEN}


def _schemas(question_max_length: int, batch_limit: int) -> dict[str, Any]:
    coarse_enum = list(taxonomy.COARSE_LABELS)
    fine_enum = list(taxonomy.FINE_LABELS)
    # At least one character that shows: not white space, a control or an invisible one.
    question = {
        "type": "string",
        "minLength": 1,
        "maxLength": question_max_length,
        "pattern": VISIBLE_CHARACTER_PATTERN,
    }
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        },
        "ClassifyRequest": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["question"],
                    "properties": {"question": question},
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "required": ["questions"],
                    "properties": {
                        "questions": {
                            "type": "array",
                            "items": question,
                            "minItems": 1,
                            "maxItems": batch_limit,
                        }
                    },
                    "additionalProperties": False,
                },
            ]
        },
        "Label": {
            "type": "object",
            "required": ["label", "name", "confidence"],
            "properties": {
                "label": {"type": "string", "enum": coarse_enum + fine_enum},
                "name": {"type": "string"},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "Alternative": {
            "type": "object",
            "required": ["label", "name", "coarse", "confidence"],
            "properties": {
                "label": {"type": "string", "enum": fine_enum},
                "name": {"type": "string"},
                "coarse": {"type": "string", "enum": coarse_enum},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "ExplanationItem": {
            "type": "object",
            "required": ["word", "start", "end", "weight"],
            "properties": {
                "word": {"type": "string"},
                "start": {"type": "integer", "minimum": 0},
                "end": {"type": "integer", "minimum": 0},
                "weight": {"type": "number"},
            },
        },
        "Classification": {
            "type": "object",
            "required": [
                "id",
                "url",
                "question",
                "coarse",
                "fine",
                "alternatives",
                "explanation",
                "model_version",
                "confident",
                *SCOPE_FIELDS,
            ],
            "properties": {
                "id": QUERY_TOKEN,
                "url": QUERY_URL,
                "question": {"type": "string"},
                "coarse": _ref("Label"),
                "fine": _ref("Label"),
                "alternatives": {"type": "array", "items": _ref("Alternative")},
                "explanation": {"type": "array", "items": _ref("ExplanationItem")},
                "model_version": {"type": "string"},
                "label_source": {"type": "string", "enum": ["model", "correction"]},
                **confident_property(),
                **scope_properties(),
            },
        },
        "BatchClassification": {
            "type": "object",
            "required": ["results"],
            "properties": {"results": {"type": "array", "items": _ref("Classification")}},
        },
        "TypicalQuestions": {
            "description": "Up to three training questions of the active dataset closest to "
            "the class's TF-IDF centroid; empty without an active dataset.",
            "type": "array",
            "items": {"type": "string"},
            "maxItems": 3,
        },
        "Taxonomy": {
            "type": "object",
            "required": ["labels"],
            "properties": {
                "labels": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["label", "name", "definition", "examples", "fine"],
                        "properties": {
                            "label": {"type": "string", "enum": coarse_enum},
                            "name": {"type": "string"},
                            "definition": {"type": "string"},
                            "examples": _ref("TypicalQuestions"),
                            "fine": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["label", "name", "definition", "examples"],
                                    "properties": {
                                        "label": {"type": "string", "enum": fine_enum},
                                        "name": {"type": "string"},
                                        "definition": {"type": "string"},
                                        "examples": _ref("TypicalQuestions"),
                                    },
                                },
                            },
                        },
                    },
                }
            },
        },
        **correction_schemas(coarse_enum, fine_enum, QUERY_TOKEN),
        "StoredQuery": {
            "type": "object",
            "required": [
                "id",
                "url",
                "question",
                "created_at",
                "prediction",
                "corrections",
                *SCOPE_FIELDS,
            ],
            "properties": {
                **scope_properties(),
                "id": QUERY_TOKEN,
                "url": QUERY_URL,
                "question": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "prediction": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["coarse", "fine", "alternatives", "explanation"],
                            "properties": {
                                "coarse": _ref("Label"),
                                "fine": _ref("Label"),
                                "alternatives": {"type": "array", "items": _ref("Alternative")},
                                "explanation": {"type": "array", "items": _ref("ExplanationItem")},
                                "model_version": {"type": ["string", "null"]},
                                **confident_property(),
                            },
                        },
                        {"type": "null"},
                    ]
                },
                "corrections": {"type": "array", "items": _ref("StoredCorrection")},
            },
        },
    }


def build_openapi_document(question_max_length: int, batch_limit: int) -> dict[str, Any]:
    """The OpenAPI 3.1 document served at /api/v1/openapi.json, with the limits the server
    enforces (``QUESTION_MAX_LENGTH``, ``API_BATCH_LIMIT``)."""
    json_body = {
        "application/json": {
            "schema": _ref("ClassifyRequest"),
            "examples": CLASSIFY_REQUEST_EXAMPLES,
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "qcapp API",
            "version": "1",
            "description": (
                "Classify English questions by the kind of answer they expect, using the "
                "UIUC taxonomy of 6 coarse and 50 fine classes. Every classified question is "
                "stored and can be read back by its id, an unguessable token that only the "
                "client who asked the question receives."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/classify": {
                "post": {
                    "operationId": "classify",
                    "summary": f"Classify one question, or a batch of 1 to {batch_limit}.",
                    "requestBody": {"required": True, "content": json_body},
                    "responses": {
                        "200": {
                            "description": "The labels (a single object, or results for a batch)",
                            # A single classification's id opens the stored query.
                            "links": {
                                "GetQuery": {
                                    "operationId": "getQuery",
                                    "parameters": {"token": "$response.body#/id"},
                                },
                                "CreateCorrection": {
                                    "operationId": "createCorrection",
                                    "parameters": {"token": "$response.body#/id"},
                                },
                            },
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            _ref("Classification"),
                                            _ref("BatchClassification"),
                                        ]
                                    },
                                    "examples": CLASSIFY_RESPONSE_EXAMPLES,
                                }
                            },
                        },
                        **_error_responses(400, 413, 415, 429, 503),
                    },
                }
            },
            "/api/v1/labels": {
                "get": {
                    "operationId": "labels",
                    "summary": "The taxonomy: coarse classes with their fine classes, each with "
                    "its definition and typical training questions.",
                    "responses": {
                        "200": {
                            "description": "The taxonomy",
                            "content": {"application/json": {"schema": _ref("Taxonomy")}},
                        }
                    },
                }
            },
            "/api/v1/queries/{token}/corrections": {
                "post": {
                    "operationId": "createCorrection",
                    "summary": "Propose the right labels for a stored query (or confirm them).",
                    "parameters": [_token_parameter()],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": _ref("CorrectionRequest"),
                                "examples": CORRECTION_REQUEST_EXAMPLES,
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": (
                                "Stored; pending until an admin reviews it. A client's later "
                                "answer on the same query replaces its pending earlier one."
                            ),
                            "content": {"application/json": {"schema": _ref("CorrectionSummary")}},
                        },
                        **_error_responses(400, 404, 409, 413, 415, 429),
                    },
                }
            },
            "/api/v1/queries/{token}": {
                "get": {
                    "operationId": "getQuery",
                    "summary": (
                        "A stored query with its prediction and corrections: the status of each "
                        "and, once a model trained with it is active, what that model answers."
                    ),
                    "parameters": [_token_parameter()],
                    "responses": {
                        "200": {
                            "description": "The stored query",
                            "content": {"application/json": {"schema": _ref("StoredQuery")}},
                        },
                        **_error_responses(404),
                    },
                }
            },
        },
        "components": {"schemas": _schemas(question_max_length, batch_limit)},
    }
