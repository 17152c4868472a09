"""Property-based fuzzing of /api/v1 from its own OpenAPI document (schemathesis)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

FUZZ_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_is_fuzzed(app):
    names = {f"{op.method.upper()} {op.path}" for op in operations(app)}
    assert names == {
        "POST /api/v1/classify",
        "GET /api/v1/labels",
        "GET /api/v1/queries/{token}",
        "POST /api/v1/queries/{token}/corrections",
    }


@pytest.mark.parametrize("index", range(4))
def test_operation_never_fails_and_matches_its_schema(app, model_version, index):
    operation = sorted(operations(app), key=lambda op: (op.path, op.method))[index]

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy())
    def check(case):
        # Default checks: no 5xx, documented status codes, responses match their schemas.
        case.call_and_validate()

    check()
