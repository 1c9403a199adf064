"""Azure OpenAI with a Microsoft Entra service principal instead of a key: the adapter gets a
token with the client-credentials grant from the fake's Entra endpoint, keeps it until near
expiry and sends it as ``Authorization: Bearer`` (the real openai SDK and httpx2 over real
HTTP); a refused secret is Parlor's auth error (tests/api/test_azure_entra_gateway.py: through
the gateway)."""

from __future__ import annotations

import pytest

from app.vendors.azure import AzureOpenAIHandler
from app.vendors.errors import VendorAuthError
from app.vendors.types import ChatMessage, ChatRequest, Credential
from tests.fakes.azure import ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET, ENTRA_TENANT, TOKEN_PATH


def entra_options(fake, secret=ENTRA_CLIENT_SECRET) -> dict[str, str]:
    return {"tenant_id": ENTRA_TENANT, "client_id": ENTRA_CLIENT_ID, "client_secret": secret,
            "authority": fake.url}


def make_handler(fake, **options) -> AzureOpenAIHandler:
    options = {**entra_options(fake), **options}
    return AzureOpenAIHandler(Credential(
        name="azure-entra", kind="azure", base_url=fake.url, timeout=10.0,
        connect_timeout=2.0, options=tuple(sorted(options.items()))))


def ask(text="hello entra") -> ChatRequest:
    return ChatRequest(model="gpt4o-prod", messages=(ChatMessage("user", text),))


def token_requests(fake) -> list:
    return [r for r in fake.requests if TOKEN_PATH.match(r.path)]


@pytest.fixture
def handler(fake_vendor):
    handler = make_handler(fake_vendor)
    yield handler
    handler.close()


def test_plain_and_streamed_calls_carry_one_cached_entra_token(handler, fake_vendor):
    assert handler.complete(ask()).text == "Echo: hello entra"
    deltas = list(handler.stream(ask("one two three four")))
    assert "".join(d.text for d in deltas) == "Echo: one two three four"
    assert deltas[-1].usage.output_tokens > 0

    calls = [r for r in fake_vendor.requests if r.path.startswith("/openai/deployments/")]
    assert len(calls) == 2 and all("api-key" not in r.headers for r in calls)
    bearers = {r.headers["authorization"] for r in calls}
    assert len(bearers) == 1 and bearers.pop().startswith("Bearer eyJ")
    [grant] = token_requests(fake_vendor)  # fetched once, kept for both calls
    assert grant.path == f"/{ENTRA_TENANT}/oauth2/v2.0/token"


def test_a_token_near_its_expiry_is_fetched_anew(handler, fake_vendor):
    now = [0.0]
    handler.entra.clock = lambda: now[0]
    handler.complete(ask())
    now[0] += 3599 - 299  # inside the last five minutes of the token's 3599 s
    handler.complete(ask())
    assert len(token_requests(fake_vendor)) == 2
    tokens = [r.headers["authorization"] for r in fake_vendor.requests
              if r.path.startswith("/openai/")]
    assert tokens[0] != tokens[1]


def test_the_sdk_own_calls_use_the_token_too(handler, fake_vendor):
    assert "fake-chat" in handler.models()
    assert fake_vendor.last_request.headers["authorization"].startswith("Bearer eyJ")


def test_a_refused_secret_is_an_auth_error_without_the_secret(fake_vendor):
    handler = make_handler(fake_vendor, client_secret="not-the-secret-value-9876")
    try:
        with pytest.raises(VendorAuthError) as refused:
            handler.complete(ask())
        with pytest.raises(VendorAuthError):
            list(handler.stream(ask()))
    finally:
        handler.close()
    assert "AADSTS7000215" in str(refused.value)
    assert "not-the-secret-value-9876" not in str(refused.value)
    assert not [r for r in fake_vendor.requests if r.path.startswith("/openai/")]


def test_a_token_the_vendor_does_not_know_is_refused(handler, fake_vendor):
    handler.entra.token()
    handler.entra._token = "eyJ.forged.token"
    with pytest.raises(VendorAuthError):
        handler.complete(ask())
