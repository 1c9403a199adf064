"""POST /v1/embeddings with the real OpenAI SDK over real HTTP, to the fake vendor."""

from __future__ import annotations

import base64
import struct

import openai
import pytest

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services.vendors import invalidate_catalog
from tests.conftest import bearer, eventually
from tests.fakes.embeddings import DEFAULT_DIMENSIONS, vector


@pytest.fixture
def embedding_route(app):
    """A route ``embed-small`` (to the fake's ``text-embedding-3-small``), marked as one."""
    with app.app_context():
        credential = VendorCredential(name="openai", kind="openai-compatible")
        db.session.add(ModelRoute(public_name="embed-small", credential=credential,
                                  upstream_model="text-embedding-3-small",
                                  capabilities=["embeddings"], input_price=2))
        db.session.commit()
        invalidate_catalog()
    return "embed-small"


def test_one_string_gets_one_vector_in_openai_shape(openai_client, fake_vendor):
    result = openai_client.embeddings.create(model="openai/fake-embed", input="hello world",
                                             encoding_format="float")
    assert result.object == "list" and result.model == "openai/fake-embed"
    assert [d.index for d in result.data] == [0] and result.data[0].object == "embedding"
    assert result.data[0].embedding == pytest.approx(vector("hello world"))
    assert result.usage.prompt_tokens == 2 and result.usage.total_tokens == 2
    sent = fake_vendor.last_request
    assert sent.path == "/v1/embeddings" and sent.body["model"] == "fake-embed"


def test_a_batch_gets_a_vector_per_input_in_order(openai_client):
    texts = ["first one", "second", "third input here"]
    result = openai_client.embeddings.create(model="openai/fake-embed", input=texts,
                                             encoding_format="float")
    assert [d.index for d in result.data] == [0, 1, 2]
    assert [d.embedding for d in result.data] == [pytest.approx(vector(t)) for t in texts]
    assert result.usage.prompt_tokens == 6


def test_the_sdk_default_base64_format_decodes_to_the_same_vectors(openai_client, fake_vendor):
    # The SDK asks for base64 unless told otherwise, and decodes it itself.
    result = openai_client.embeddings.create(model="openai/fake-embed", input=["a b", "c"])
    assert fake_vendor.last_request.body["encoding_format"] == "base64"
    assert result.data[1].embedding == pytest.approx(vector("c"))


def test_base64_format_is_relayed_as_base64_float32(live_server, member_key):
    with openai.OpenAI(base_url=live_server + "/v1", api_key=member_key,
                       max_retries=0) as client:
        raw = client.embeddings.with_raw_response.create(
            model="openai/fake-embed", input="hello", encoding_format="base64")
    encoded = raw.http_response.json()["data"][0]["embedding"]
    decoded = struct.unpack(f"<{DEFAULT_DIMENSIONS}f", base64.b64decode(encoded))
    assert list(decoded) == vector("hello")


def test_dimensions_are_forwarded_and_honoured(openai_client, fake_vendor):
    result = openai_client.embeddings.create(model="openai/fake-embed", input="hi",
                                             dimensions=3, encoding_format="float")
    assert fake_vendor.last_request.body["dimensions"] == 3
    assert len(result.data[0].embedding) == 3


def test_token_ids_are_forwarded_as_sent(openai_client, fake_vendor):
    result = openai_client.embeddings.create(model="openai/fake-embed",
                                             input=[[1, 2, 3], [4]], encoding_format="float")
    assert fake_vendor.last_request.body["input"] == [[1, 2, 3], [4]]
    assert len(result.data) == 2 and result.usage.prompt_tokens == 4


def test_an_anthropic_model_gets_a_clear_400(openai_client, fake_vendor):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.embeddings.create(model="anthropic/fake-chat", input="hi")
    assert "does not make embeddings" in caught.value.body["message"]
    assert caught.value.body["type"] == "invalid_request_error"
    assert not fake_vendor.requests  # refused before any upstream call


@pytest.mark.parametrize("body, message", [
    ({"model": "openai/fake-embed"}, "input"),
    ({"model": "openai/fake-embed", "input": ""}, "input: must not be an empty string"),
    ({"model": "openai/fake-embed", "input": []}, "input: must be a string"),
    ({"model": "openai/fake-embed", "input": [1, "a"]}, "input: must be a string"),
    ({"model": "openai/fake-embed", "input": "a", "encoding_format": "int8"},
     "encoding_format"),
    ({"model": "openai/fake-embed", "input": "a", "dimensions": 0}, "dimensions"),
])
def test_bad_bodies_get_a_400_naming_the_field(client, member_key, body, message):
    response = client.post("/v1/embeddings", json=body, headers=bearer(member_key))
    assert response.status_code == 400
    assert message in response.json["error"]["message"]


def test_upstream_errors_are_translated_like_chat(openai_client):
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.embeddings.create(model="openai/error-429", input="hi")
    assert caught.value.status_code == 429


def test_an_unknown_model_is_a_404(openai_client):
    with pytest.raises(openai.NotFoundError):
        openai_client.embeddings.create(model="nobody/offers-this", input="hi")


def test_embeddings_need_an_api_key(live_server):
    with openai.OpenAI(base_url=live_server + "/v1", api_key="pk-wrong", max_retries=0) as c:
        with pytest.raises(openai.AuthenticationError):
            c.embeddings.create(model="openai/fake-embed", input="hi")


def test_the_doubled_v1_path_answers_too(client, member_key):
    response = client.post("/v1/v1/embeddings", headers=bearer(member_key),
                           json={"model": "openai/fake-embed", "input": "hi"})
    assert response.status_code == 200 and len(response.json["data"]) == 1


def test_a_call_writes_its_input_tokens_to_the_usage_ledger(
        openai_client, embedding_route, usage_records):
    openai_client.embeddings.create(model=embedding_route, input=["one two", "three"])
    row = eventually(lambda: usage_records()[-1] if usage_records() else None)
    assert row["model"] == "embed-small" and row["route"] == "openai/text-embedding-3-small"
    assert row["input_tokens"] == 3 and row["output_tokens"] == 0
    assert row["status"] == "complete" and row["source"] == "api"


def test_a_route_marked_as_embeddings_is_listed_in_models(openai_client, embedding_route):
    assert embedding_route in [m.id for m in openai_client.models.list()]
