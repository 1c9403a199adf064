"""Codex CLI (`codex exec`) through Parlor to a vendor that speaks the Responses API itself
(kind ``openai``): its requests go upstream as it sent them, and the turn still finishes with
one shell call whose output reaches the vendor as a ``function_call_output`` item."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services.encryption import secret_box
from app.services.vendors import invalidate_catalog
from tests.agents.conftest import FAKE_ANSWER, TOOL_MARKER, assert_tool_result_went_upstream

pytestmark = pytest.mark.agents


@pytest.fixture
def native_model(app, fake_vendor) -> str:
    """``gpt-native`` routed to the fake's ``tool-call`` on a vendor of kind ``openai``."""
    with app.app_context():
        credential = VendorCredential(name="official", kind="openai",
                                      base_url=fake_vendor.openai_base_url,
                                      encrypted_secret=secret_box().encrypt(fake_vendor.api_key))
        db.session.add(ModelRoute(public_name="gpt-native", credential=credential,
                                  upstream_model="tool-call"))
        db.session.commit()
        invalidate_catalog()
    return "gpt-native"


def test_codex_exec_runs_a_command_through_the_native_responses_api(run_codex, fake_vendor,
                                                                     native_model):
    run = run_codex(native_model)

    assert run.returncode == 0, run.explain()
    assert FAKE_ANSWER in run.stdout and TOOL_MARKER in run.stdout, run.explain()
    assert_tool_result_went_upstream(fake_vendor, run)
    sent = [r for r in fake_vendor.requests if r.method == "POST"]
    assert sent and all(r.path == "/v1/responses" for r in sent), run.explain()
    assert all(r.body["store"] is False and r.body["model"] == "tool-call" for r in sent)
