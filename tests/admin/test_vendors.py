"""Vendors screen: credentials stored encrypted, masked everywhere, SSRF-safe base URLs."""

from __future__ import annotations

import re
import socket

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, VendorCredential
from app.services import vendor_credentials
from app.services.encryption import SecretBox
from tests.admin.conftest import post_form
from tests.conftest import TEST_FERNET_KEY
from tests.fakes.vendor_server import DEFAULT_API_KEY, DEFAULT_MODELS

ADMIN_PAGES = ["/admin/", "/admin/users/", "/admin/roles/", "/admin/keys/", "/admin/vendors/",
               "/admin/models/", "/admin/usage/", "/admin/audit/"]


def _add_fake_vendor(admin_client, fake_vendor, **overrides):
    data = {"name": "fake", "kind": "openai-compatible", "base_url": fake_vendor.openai_base_url,
            "api_key": DEFAULT_API_KEY, "enabled": "y", **overrides}
    return post_form(admin_client, "/admin/vendors/", "/admin/vendors/", data)


def _every_admin_page(app, client) -> str:
    with app.app_context():
        ids = [c.id for c in db.session.scalars(select(VendorCredential))]
    pages = ADMIN_PAGES + [f"/admin/vendors/{i}" for i in ids]
    return "\n".join(client.get(page).get_data(as_text=True) for page in pages)


def test_vendor_key_is_stored_encrypted_and_never_shown_again(app, admin_client, fake_vendor):
    response = _add_fake_vendor(admin_client, fake_vendor)
    assert response.status_code == 302
    assert DEFAULT_API_KEY not in response.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(select(VendorCredential).where(VendorCredential.name == "fake"))
        assert DEFAULT_API_KEY.encode() not in row.encrypted_secret
        assert SecretBox([TEST_FERNET_KEY]).decrypt(row.encrypted_secret) == DEFAULT_API_KEY
        assert row.secret_hint == DEFAULT_API_KEY[-4:]
    html = _every_admin_page(app, admin_client)
    assert DEFAULT_API_KEY not in html and DEFAULT_API_KEY[:-4] not in html
    assert f"…{DEFAULT_API_KEY[-4:]}" in html
    test = post_form(admin_client, "/admin/vendors/", "/admin/vendors/test/fake")
    assert DEFAULT_API_KEY not in test.get_data(as_text=True)


def test_test_connection_lists_the_vendors_models(admin_client, fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor)
    response = post_form(admin_client, "/admin/vendors/", "/admin/vendors/test/fake",
                         headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html
    for model in DEFAULT_MODELS:
        assert f"<code>{model}</code>" in html
    assert fake_vendor.last_request.path.endswith("/models")


def test_test_connection_reports_a_wrong_key_without_echoing_it(app, admin_client, fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor, api_key="sk-wrong-key-0000000000")
    html = post_form(admin_client, "/admin/vendors/", "/admin/vendors/test/fake",
                     headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'class="error"' in html and "sk-wrong-key" not in html


def test_stored_vendor_serves_chat_and_key_rotation_takes_effect(app, admin_client, fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor, api_key="sk-old-key-1111111111")
    with app.app_context():
        row_id = db.session.scalar(select(VendorCredential.id))
    rotate = post_form(admin_client, f"/admin/vendors/{row_id}", f"/admin/vendors/{row_id}/key",
                       {"api_key": DEFAULT_API_KEY})
    assert rotate.status_code == 302
    html = post_form(admin_client, "/admin/vendors/", "/admin/vendors/test/fake",
                     headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<code>fake-chat</code>" in html
    with app.app_context():
        details = [e.detail for e in db.session.scalars(select(AuditEvent))]
    assert "sk-old-key" not in repr(details) and DEFAULT_API_KEY not in repr(details)
    assert any(d.get("key") == f"…{DEFAULT_API_KEY[-4:]}" for d in details)


def test_vendor_form_shows_validation_messages_inline(admin_client, fake_vendor):
    cases = [
        ({"name": "Bad Name"}, "lower-case letters"),
        ({"base_url": ""}, "needs its base URL"),
        ({"kind": "openai", "api_key": ""}, "This vendor needs an API key."),
        ({"name": "mock"}, "configured from the environment"),
    ]
    for overrides, message in cases:
        response = _add_fake_vendor(admin_client, fake_vendor, **overrides)
        assert response.status_code == 400, overrides
        assert message in response.get_data(as_text=True), overrides
    _add_fake_vendor(admin_client, fake_vendor)
    response = _add_fake_vendor(admin_client, fake_vendor)
    assert "already exists" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:169.254.169.254]/",
    "http://169.254.170.2/v2/credentials",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "ftp://example.com/",
    "http://user:pw@example.com/",
    "http:///no-host",
])
def test_case13_unsafe_base_urls_are_refused(admin_client, fake_vendor, url):
    response = _add_fake_vendor(admin_client, fake_vendor, base_url=url)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'class="error" role="alert">[^<]*(base URL|metadata)', html), url


def test_names_resolving_to_a_metadata_address_are_refused(app, monkeypatch):
    real_resolve = socket.getaddrinfo

    def resolve(host, port, **options):  # the name as a cloud's resolver answers it
        if host == "metadata.google.internal":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]
        return real_resolve(host, port, **options)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with app.app_context(), pytest.raises(vendor_credentials.CredentialError, match="metadata"):
        vendor_credentials.check_base_url("http://metadata.google.internal/")
    with app.app_context():
        assert vendor_credentials.check_base_url("http://127.0.0.1:8000/v1/") == \
            "http://127.0.0.1:8000/v1"


def test_environment_vendors_are_listed_read_only_and_masked(make_app, fake_vendor):
    from tests.conftest import log_in
    app = make_app(OPENAI_API_KEY=DEFAULT_API_KEY, OPENAI_BASE_URL=fake_vendor.openai_base_url)
    with app.app_context():
        from app.services import accounts
        accounts.create_user("admin@example.com", "correct horse battery", role="admin")
    client = app.test_client()
    log_in(client, "admin@example.com")
    html = client.get("/admin/vendors/").get_data(as_text=True)
    assert "environment, read-only" in html
    assert DEFAULT_API_KEY not in html and f"…{DEFAULT_API_KEY[-4:]}" in html


def test_secret_box_round_trip_and_rotation_with_two_keys():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox([old]).encrypt("sk-secret-value")
    both = SecretBox([new, old])
    assert both.decrypt(token) == "sk-secret-value"
    rotated = both.rotate(token)
    assert SecretBox([new]).decrypt(rotated) == "sk-secret-value"
    with pytest.raises(Exception):  # noqa: B017 - InvalidToken: the old key alone no longer reads it
        SecretBox([old]).decrypt(rotated)


def test_cli_reencrypt_moves_stored_keys_to_the_newest_key(make_app):
    old, new = TEST_FERNET_KEY, Fernet.generate_key().decode()
    rotated_app = make_app(PARLOR_ENCRYPTION_KEYS=f"{new},{old}")
    with rotated_app.app_context():  # a key stored before the new key was put first
        db.session.add(VendorCredential(name="v", kind="openai",
                                        encrypted_secret=SecretBox([old]).encrypt("sk-abc")))
        db.session.commit()
    result = rotated_app.test_cli_runner().invoke(args=["vendors", "reencrypt"])
    assert result.exit_code == 0 and "Re-encrypted 1 vendor key" in result.output
    assert "sk-abc" not in result.output
    with rotated_app.app_context():
        token = db.session.scalar(select(VendorCredential.encrypted_secret))
    assert SecretBox([new]).decrypt(token) == "sk-abc"
