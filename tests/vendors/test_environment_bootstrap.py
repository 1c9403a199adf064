"""Environment vendors come from the registry: each kind declares the variables that create
its read-only credential (``VendorKind.environment``), and the bootstrap walks the kinds."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services import accounts, keys, vendor_credentials
from app.services.vendors import environment_credentials
from app.vendors import KINDS
from tests.conftest import PASSWORD
from tests.fakes.bedrock import ACCESS_KEY_ID, SECRET_ACCESS_KEY

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_declared_vendor_variable_is_documented_in_the_readme():
    readme = README.read_text()
    declared = {v for kind in KINDS.values() for v in kind.environment_variables}
    assert {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"} <= declared
    assert sorted(v for v in declared if f"`{v}`" not in readme) == []


def test_the_existing_variables_keep_their_meaning(make_app, fake_vendor):
    app = make_app(OPENAI_API_KEY="sk-env", ANTHROPIC_BASE_URL="http://127.0.0.1:9",
                   PARLOR_MOCK_VENDOR="0")
    found = environment_credentials(app.config)
    assert list(found) == ["openai"]  # ANTHROPIC_BASE_URL alone makes no vendor
    assert (found["openai"].kind, found["openai"].api_key, found["openai"].read_only) == (
        "openai", "sk-env", True)

    app = make_app(OPENAI_API_KEY="", OPENAI_BASE_URL=fake_vendor.openai_base_url,
                   ANTHROPIC_API_KEY="sk-ant")
    found = environment_credentials(app.config)
    assert found["openai"].kind == "openai-compatible"  # a base URL elsewhere than OpenAI
    assert found["openai"].api_key is None
    assert (found["anthropic"].kind, found["anthropic"].api_key) == ("anthropic", "sk-ant")
    assert found["anthropic"].option("idle_timeout") == app.config["PARLOR_VENDOR_IDLE_TIMEOUT"]


def test_bedrock_takes_its_region_and_aws_keys_as_options(make_app):
    app = make_app(BEDROCK_REGION="eu-west-1", AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
                   AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    credential = environment_credentials(app.config)["bedrock"]
    assert (credential.kind, credential.option("region"), credential.option(
        "aws_access_key_id"), credential.option("aws_secret_access_key")) == (
        "bedrock", "eu-west-1", ACCESS_KEY_ID, SECRET_ACCESS_KEY)


def test_aws_keys_alone_make_no_bedrock_vendor(make_app):
    app = make_app(AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    assert "bedrock" not in environment_credentials(app.config)


@pytest.fixture
def app(make_app, fake_vendor):
    """An app with a Gemini vendor from GEMINI_API_KEY / GEMINI_BASE_URL and a route to it."""
    app = make_app(GEMINI_API_KEY=fake_vendor.api_key, GEMINI_BASE_URL=fake_vendor.url)
    with app.app_context():
        assert "gemini" in vendor_credentials.ensure_environment_credentials()
        stand_in = db.session.query(VendorCredential).filter_by(name="gemini").one()
        assert (stand_in.kind, stand_in.from_environment, stand_in.encrypted_secret) == (
            "gemini", True, None)
        db.session.add(ModelRoute(public_name="gem", credential=stand_in,
                                  upstream_model="gemini-flash"))
        db.session.commit()
    return app


def test_gemini_api_key_bootstraps_a_gemini_vendor_that_answers(app, live_server, fake_vendor):
    with app.app_context():
        _, secret = keys.create_key(accounts.create_user("m@example.com", PASSWORD))
    sdk = openai.OpenAI(base_url=live_server + "/v1", api_key=secret, max_retries=0)
    reply = sdk.chat.completions.create(model="gem",
                                        messages=[{"role": "user", "content": "from env"}])
    assert reply.choices[0].message.content == "Echo: from env"
    upstream = fake_vendor.last_request
    assert upstream.path == "/v1/models/gemini-flash:generateContent"
    assert upstream.headers["x-goog-api-key"] == fake_vendor.api_key


def test_environment_vendors_show_read_only_with_a_masked_key(app, fake_vendor):
    with app.app_context():
        views = {view.name: view for view in vendor_credentials.listing()}
    assert views["gemini"].read_only and views["gemini"].kind == "gemini"
    assert fake_vendor.api_key not in views["gemini"].key_mask
    assert views["gemini"].key_mask.endswith(fake_vendor.api_key[-4:])


def test_an_app_keeps_the_vendor_variables_it_was_made_with(make_app, monkeypatch):
    first = make_app(OPENAI_API_KEY="sk-first", PARLOR_MOCK_VENDOR="0")
    make_app(OPENAI_API_KEY="sk-second", PARLOR_MOCK_VENDOR="0")  # the environment moved on
    monkeypatch.setenv("OPENAI_API_KEY", "sk-third")

    assert environment_credentials(first.config)["openai"].api_key == "sk-first"
