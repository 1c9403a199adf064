"""Schemathesis over the whole OpenAPI document, against the live app with a member's key.

Positive and negative examples for every operation (bounded, derandomized): no 5xx, every
status, content type and JSON body as documented, and schema-violating input refused (4xx).
Streamed answers (``stream: true``) are documented as ``text/event-stream``; their event
bodies are pinned by the streaming tests, not here.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from app.api import openapi
from tests.api_rest.conftest import bearer

# A body over PARLOR_MAX_REQUEST_BYTES is refused with 413, which is a rejection too.
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]}}})
# /api/v1/admin answers a member 403 throughout; tests/api_admin fuzzes it with an admin key.
schema = schemathesis.openapi.from_dict(openapi.document(), config=CONFIG).exclude(
    path_regex="^/api/v1/admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]


@pytest.fixture
def key_headers(make_key):
    return bearer(make_key("fuzz@example.com"))


@schema.parametrize()
@settings(max_examples=12, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, live_server, key_headers):
    case.call_and_validate(base_url=live_server, headers=key_headers, checks=CHECKS)
