"""Parlor's own rate limit on the REST API answers in the REST error shape."""

from __future__ import annotations

import pytest

from tests.conftest import bearer, fake_vendor_env


@pytest.fixture
def app(make_app, fake_vendor):
    return make_app(PARLOR_RATE_LIMIT="2/minute", **fake_vendor_env(fake_vendor, "openai"))


def test_rate_limit_on_api_v1_answers_in_the_rest_shape(app, make_key):
    client, key = app.test_client(), make_key()
    for _ in range(2):
        assert client.get("/api/v1/me", headers=bearer(key)).status_code == 200

    refused = client.get("/api/v1/me", headers=bearer(key))

    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert refused.get_json()["error"]["code"] == "rate_limit"
