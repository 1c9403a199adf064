"""Parlor's own rate limits in the browser: chat sends past the limit get an inline message,
and sign-in is limited per account and per address (a forged X-Forwarded-For does not help)."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from tests.conftest import PASSWORD, csrf_token, fake_vendor_env, log_in


@pytest.fixture
def app(make_app, fake_vendor):
    return make_app(PARLOR_RATE_LIMIT="2/minute", **fake_vendor_env(fake_vendor, "openai"))


def test_chat_sends_over_the_limit_get_an_inline_message(app, make_user):
    make_user("member@example.com")
    client = app.test_client()
    log_in(client, "member@example.com")
    token = csrf_token(client.get("/").get_data(as_text=True))
    for text in ("one", "two"):  # two new chats: the limit of 2 a minute is used up
        page = client.post("/c", data={"csrf_token": token, "model": "openai/fake-chat",
                                       "message": text}, follow_redirects=True)
    conversation = re.search(r'/c/([A-Za-z0-9_-]+)', page.request.path).group(1)
    form = {"csrf_token": token, "model": "openai/fake-chat", "message": "three"}

    refused = client.post(f"/c/{conversation}/messages", data=form,
                          headers={"HX-Request": "true"})

    assert refused.status_code == 422  # htmx swaps it in above the composer
    assert refused.headers["HX-Retarget"] == "#composer-error"
    assert int(refused.headers["Retry-After"]) >= 1
    assert "too fast" in refused.get_data(as_text=True)


# -- sign-in --------------------------------------------------------------------------------


def attempt(client, email, password, forwarded_for=None, remote="198.51.100.9"):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/login", data={"csrf_token": token, "email": email,
                                       "password": password},
                       headers=headers, environ_base={"REMOTE_ADDR": remote})


@pytest.mark.parametrize("proxies", [0, 1])
def test_case11_login_brute_force_with_rotating_forwarded_for_gets_429(make_app, proxies):
    app = make_app(PARLOR_LOGIN_RATE_LIMIT="5/minute", PARLOR_LOGIN_IP_RATE_LIMIT="8/minute",
                   PARLOR_TRUSTED_PROXIES=proxies)
    with app.app_context():
        from app.services import accounts

        accounts.create_user("victim@example.com", PASSWORD)
        accounts.create_user("bystander@example.com", PASSWORD)
        db.session.commit()
    client = app.test_client()
    # The proxy appends the real client (203.0.113.7); the client forges what comes before.
    statuses = [attempt(client, "victim@example.com", f"guess-{i}",
                        forwarded_for=f"10.0.{i}.1, 203.0.113.7").status_code
                for i in range(20)]

    assert statuses[:5] == [200] * 5  # the login page again, with "Wrong e-mail or password"
    assert set(statuses[5:]) == {429}
    refused = attempt(client, "victim@example.com", PASSWORD, forwarded_for="10.9.9.9, 203.0.113.7")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    # Someone else, from another address, still gets in.
    other = app.test_client()
    welcome = attempt(other, "bystander@example.com", PASSWORD,
                      forwarded_for="192.0.2.50", remote="192.0.2.50")
    assert welcome.status_code == 302


def test_login_limit_per_address_covers_many_accounts(make_app):
    app = make_app(PARLOR_LOGIN_RATE_LIMIT="50/minute", PARLOR_LOGIN_IP_RATE_LIMIT="3/minute")
    client = app.test_client()
    statuses = [attempt(client, f"user{i}@example.com", "nope").status_code for i in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
