"""The response cache through the gateway, with the real openai and anthropic SDKs over HTTP:
a route that caches answers a repeated request with no vendor call (the fake vendor's log),
``x-parlor-cache: hit`` (``miss`` the first time), a streamed hit as a stream, a usage row
marked ``cached`` at no cost, and another user's identical request missing unless the route
shares its answers."""

from __future__ import annotations

from decimal import Decimal

import openai
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ModelRoute, UsageRecord, VendorCredential
from tests.conftest import eventually

MESSAGES = [{"role": "user", "content": "cache me if you can"}]


@pytest.fixture
def cached_route(app, fake_vendor):
    """The app, with a stored vendor ``cachy`` on the fake vendor for the routes."""
    with app.app_context():
        from app.services import vendor_credentials
        from app.services.actor import Actor

        vendor_credentials.add(Actor(user_id=None, ip="127.0.0.1"), name="cachy",
                               kind="openai-compatible", base_url=fake_vendor.openai_base_url,
                               api_key=fake_vendor.api_key)
    return app


def route_to(app, name: str, **fields) -> None:
    with app.app_context():
        credential = db.session.scalar(select(VendorCredential).where(
            VendorCredential.name == "cachy"))
        db.session.add(ModelRoute(public_name=name, credential=credential,
                                  upstream_model="fake-chat", input_price=Decimal(3),
                                  output_price=Decimal(15), **fields))
        db.session.commit()


def chat_calls(fake) -> int:
    return len([r for r in fake.requests if r.path == "/v1/chat/completions"])


def usage(app) -> list[tuple[str, Decimal]]:
    with app.app_context():
        return [(r.status, r.cost) for r in db.session.scalars(
            select(UsageRecord).order_by(UsageRecord.id))]


def test_a_repeated_request_is_a_hit_without_a_vendor_call_and_costs_nothing(
        cached_route, openai_client, fake_vendor):
    route_to(cached_route, "cached", response_cache_ttl=300)
    first = openai_client.chat.completions.with_raw_response.create(
        model="cached", messages=MESSAGES)
    again = openai_client.chat.completions.with_raw_response.create(
        model="cached", messages=MESSAGES)
    assert first.headers["x-parlor-cache"] == "miss"
    assert again.headers["x-parlor-cache"] == "hit"
    assert chat_calls(fake_vendor) == 1
    assert again.parse().choices[0].message.content == "Echo: cache me if you can"
    assert again.parse().usage.completion_tokens == first.parse().usage.completion_tokens
    rows = eventually(lambda: usage(cached_route) if len(usage(cached_route)) == 2 else None)
    assert [status for status, _ in rows] == ["complete", "cached"]
    assert rows[0][1] > 0 and rows[1][1] == 0


def test_a_streamed_hit_streams(cached_route, openai_client, anthropic_client, fake_vendor):
    route_to(cached_route, "cached", response_cache_ttl=300)
    live = openai_client.chat.completions.create(model="cached", messages=MESSAGES,
                                                 stream=True)
    live_pieces = [c.choices[0].delta.content for c in live if c.choices and
                   c.choices[0].delta.content]
    with openai_client.chat.completions.with_streaming_response.create(
            model="cached", messages=MESSAGES, stream=True) as response:
        assert response.headers["x-parlor-cache"] == "hit"
        chunks = list(response.parse())
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and
              c.choices[0].delta.content]
    assert len(pieces) > 1 and pieces == live_pieces
    assert chat_calls(fake_vendor) == 1

    with anthropic_client.messages.stream(model="cached", max_tokens=1024,
                                          messages=MESSAGES) as stream:
        text = "".join(stream.text_stream)
    assert text == "Echo: cache me if you can"  # the same answer through /v1/messages


def test_another_user_misses_unless_the_route_shares(
        cached_route, openai_client, make_key, live_server, fake_vendor):
    route_to(cached_route, "private", response_cache_ttl=300)
    route_to(cached_route, "shared", response_cache_ttl=300, response_cache_shared=True)
    other_key = make_key("someone-else@example.com")
    with openai.OpenAI(base_url=live_server + "/v1", api_key=other_key,
                       max_retries=0) as other:
        for name in ("private", "shared"):
            openai_client.chat.completions.create(model=name, messages=MESSAGES)
        private = other.chat.completions.with_raw_response.create(model="private",
                                                                  messages=MESSAGES)
        shared = other.chat.completions.with_raw_response.create(model="shared",
                                                                 messages=MESSAGES)
    assert private.headers["x-parlor-cache"] == "miss"
    assert shared.headers["x-parlor-cache"] == "hit"
    assert chat_calls(fake_vendor) == 3


def test_a_route_that_does_not_cache_says_nothing_and_calls_every_time(
        cached_route, openai_client, fake_vendor):
    route_to(cached_route, "plain")
    for _ in range(2):
        response = openai_client.chat.completions.with_raw_response.create(
            model="plain", messages=MESSAGES)
        assert "x-parlor-cache" not in response.headers
    assert chat_calls(fake_vendor) == 2


def test_a_key_can_opt_in_on_a_route_that_keeps_nothing(
        cached_route, client, live_server, make_key, key_row, fake_vendor):
    """The admin sets the key's own cache TTL; its calls on a plain route are then kept, while
    another key (of the same user) still calls the vendor each time."""
    from tests.conftest import bearer

    route_to(cached_route, "plain")
    admin = bearer(make_key("root@example.com", "admin"))
    opted, other = make_key("fay@example.com"), make_key("fay@example.com")
    patched = client.patch(f"/api/v1/admin/keys/{key_row(opted).id}", headers=admin,
                           json={"response_cache_ttl": 120})
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["data"]["response_cache_ttl"] == 120
    refused = client.patch(f"/api/v1/admin/keys/{key_row(opted).id}", headers=admin,
                           json={"response_cache_ttl": 0})
    assert refused.status_code == 400

    answers = []
    for secret in (opted, opted, other):
        with openai.OpenAI(base_url=live_server + "/v1", api_key=secret,
                           max_retries=0) as sdk:
            answers.append(sdk.chat.completions.with_raw_response.create(
                model="plain", messages=MESSAGES))
    assert [a.headers.get("x-parlor-cache") for a in answers] == ["miss", "hit", None]
    assert chat_calls(fake_vendor) == 2
