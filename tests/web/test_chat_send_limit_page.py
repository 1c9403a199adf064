"""A chat send past the rate limit without htmx (a plain form post) gets the 429 error page."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, fake_vendor_env, log_in


@pytest.fixture
def app(make_app, fake_vendor):
    return make_app(PARLOR_RATE_LIMIT="2/minute", **fake_vendor_env(fake_vendor, "openai"))


def test_plain_chat_send_over_the_limit_gets_a_429_page_with_retry_after(app, make_user):
    make_user("member@example.com")
    client = app.test_client()
    log_in(client, "member@example.com")
    token = csrf_token(client.get("/").get_data(as_text=True))
    form = {"csrf_token": token, "model": "openai/fake-chat"}
    for text in ("one", "two"):
        assert client.post("/c", data=form | {"message": text}).status_code == 302

    refused = client.post("/c", data=form | {"message": "three"})

    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "too fast" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 200  # browsing is not counted, only sending
