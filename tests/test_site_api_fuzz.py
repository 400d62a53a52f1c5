"""The API against its own OpenAPI document, fuzzed by schemathesis (in process, on the demo's
publication): no input makes the server fail, and every response fits the document. (The
schemathesis pytest plugin does not run under this pytest; the operations' Hypothesis
strategies are driven directly instead.)"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from peelkit.site.app import create_app

OPERATIONS = [
    "/api/v1/forces",
    "/api/v1/cycles",
    "/api/v1/catalogue",
    "/api/v1/records",
    "/api/v1/grades",
    "/api/v1/lineage",
]


@pytest.fixture(scope="module")
def api_schema(demo_run):
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(demo_run.site))


def test_the_document_lists_every_api_operation(api_schema):
    found = sorted(r.ok().path for r in api_schema.get_all_operations())
    assert found == sorted(OPERATIONS)


@pytest.mark.parametrize("path", OPERATIONS)
def test_no_input_breaks_the_api_or_its_document(api_schema, path):
    operation = api_schema["/".join(["", *path.strip("/").split("/")])]["GET"]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call()
        assert response.status_code < 500, (case.query, response.text[:300])
        case.validate_response(response)

    fuzz()
