"""The OpenAPI schemas of corrections: what a user sends, and what became of it."""

from __future__ import annotations

from typing import Any

from ..models import CorrectionKind, CorrectionStatus


def correction_schemas(
    coarse_enum: list[str], fine_enum: list[str], query_token: dict[str, Any]
) -> dict[str, Any]:
    """CorrectionRequest, CorrectionSummary and StoredCorrection (a summary with its outcome)."""
    return {
        "CorrectionRequest": {
            "type": "object",
            "required": ["coarse", "fine"],
            # The fine class must belong to the coarse class, as the API checks.
            "oneOf": [
                {
                    "properties": {
                        "coarse": {"const": coarse},
                        "fine": {"enum": [f for f in fine_enum if f.startswith(f"{coarse}:")]},
                    }
                }
                for coarse in coarse_enum
            ],
            "properties": {
                "coarse": {"type": "string", "enum": coarse_enum},
                "fine": {"type": "string", "enum": fine_enum},
                "note": {
                    "type": ["string", "null"],
                    "maxLength": 1000,
                    "description": "Why the label is right; null or blank means no note.",
                },
                "kind": {
                    "type": "string",
                    "enum": [kind.value for kind in CorrectionKind],
                    "description": "What the client says of the model's answer: "
                    '"correction" (it is wrong; the labels must differ from the prediction) or '
                    '"confirmation" (it is right; the labels must be the prediction\'s). '
                    "Left out, the labels decide: the predicted ones make a confirmation.",
                },
            },
            "additionalProperties": False,
        },
        "CorrectionSummary": {
            "type": "object",
            "required": ["id", "kind", "coarse", "fine", "status", "created_at"],
            "properties": {
                "id": {
                    **query_token,
                    "description": "The correction's own unguessable handle.",
                },
                "query_id": query_token,
                "kind": {"type": "string", "enum": [kind.value for kind in CorrectionKind]},
                "coarse": {"type": "string", "enum": coarse_enum},
                "fine": {"type": "string", "enum": fine_enum},
                "status": {
                    "type": "string",
                    "enum": [status.value for status in CorrectionStatus],
                },
                "created_at": {"type": "string", "format": "date-time"},
                "in_active_model": {
                    "type": "boolean",
                    "description": "Whether the model answering now was trained with it.",
                },
                "active_prediction": {
                    "description": "What that model answers for the question now, when it was.",
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["coarse", "fine", "model_version"],
                            "properties": {
                                "coarse": {"type": "string", "enum": coarse_enum},
                                "fine": {"type": "string", "enum": fine_enum},
                                "model_version": {"type": "string"},
                            },
                        },
                        {"type": "null"},
                    ],
                },
            },
        },
        "StoredCorrection": {
            "allOf": [
                {"$ref": "#/components/schemas/CorrectionSummary"},
                {"required": ["in_active_model", "active_prediction"]},
            ]
        },
    }
