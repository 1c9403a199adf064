"""GET /v1/models in the shape of the SDK that asks, with only the models the role may use."""

from __future__ import annotations

import anthropic
import openai
import pytest

VENDOR_MODELS = {"openai/fake-chat", "anthropic/fake-chat", "mock/echo"}


def test_openai_sdk_lists_models_in_openai_shape(openai_client):
    response = openai_client.models.with_raw_response.list()
    models = response.parse()
    ids = {m.id for m in models}
    assert VENDOR_MODELS <= ids
    assert all(m.object == "model" and isinstance(m.created, int) for m in models)
    assert response.headers["x-request-id"]
    assert response.http_request.url.path == "/v1/models"


def test_anthropic_sdk_lists_models_in_anthropic_shape(anthropic_client):
    page = anthropic_client.models.list()
    assert VENDOR_MODELS <= {m.id for m in page.data}
    assert all(m.type == "model" and m.display_name for m in page.data)
    assert page.has_more is False
    assert {m.id for m in anthropic_client.models.list()} == {m.id for m in page.data}


def test_models_are_filtered_by_role(live_server, make_key, admin_only_route):
    member = openai.OpenAI(base_url=live_server + "/v1", api_key=make_key(), max_retries=0)
    admin = anthropic.Anthropic(base_url=live_server, max_retries=0,
                                api_key=make_key("admin@example.com", role="admin"))
    assert admin_only_route not in {m.id for m in member.models.list()}
    assert admin_only_route in {m.id for m in admin.models.list()}
    with pytest.raises(openai.NotFoundError):
        member.chat.completions.create(model=admin_only_route,
                                       messages=[{"role": "user", "content": "hi"}])
    reply = admin.messages.create(model=admin_only_route, max_tokens=10,
                                  messages=[{"role": "user", "content": "hi"}])
    assert reply.content[0].text == "Echo: hi"


def test_one_model_can_be_retrieved_and_an_unknown_one_is_not_found(openai_client,
                                                                    anthropic_client):
    assert openai_client.models.retrieve("openai/fake-chat").id == "openai/fake-chat"
    assert anthropic_client.models.retrieve("mock/echo").type == "model"
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client.models.retrieve("openai/unknown")
    assert caught.value.body["code"] == "model_not_found"
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client.models.retrieve("openai/unknown")
