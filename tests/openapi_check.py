"""Validate API responses against the OpenAPI document the app serves."""

from __future__ import annotations

import jsonschema


def validate_against(document: dict, schema_name: str, instance) -> None:
    """Raise when ``instance`` does not match components/schemas/``schema_name`` of ``document``."""
    # The component schemas are JSON Schema 2020-12 (OpenAPI 3.1); references resolve in this root.
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)
