"""Schemathesis over the admin operations with an admin's key: no 5xx, answers as documented,
schema-violating input refused. (The member-key run in tests/api_rest sees only their 403s.)"""

from __future__ import annotations

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
from tests.api_admin.conftest import API

CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": [400, 401, 403, 404, 405, 409, 413, 415, 422, 429]}}})
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]
schema = schemathesis.openapi.from_dict(openapi.document(), config=CONFIG).include(
    path_regex=f"^{API}/")


@schema.parametrize()
@settings(max_examples=6, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_admin_api_conforms_to_its_openapi_document(case, live_server, admin):
    case.call_and_validate(base_url=live_server, headers=admin, checks=CHECKS)
