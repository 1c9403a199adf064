"""Markup never runs: case 1, Markdown in messages never renders scripts, event handlers or
bad URL schemes; case 3, admin-authored and profile fields holding markup are escaped on every
page."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.formatting.markdown import to_html
from app.models import Conversation, Role
from app.repositories import accounts as accounts_repo
from tests.conftest import log_in

PAYLOADS = [
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "<svg onload=alert(1)>",
    '<iframe srcdoc="<script>alert(1)</script>">', "[a](javascript:alert(1))",
    "[a](JaVaScRiPt&colon;alert(1))", "[a](data:text/html;base64,PHNjcmlwdD4=)",
    '<a href="vbscript:msgbox(1)">x</a>', "![x](javascript:alert(1))", "<style>",
    '<a href="jav&#x09;ascript:alert(1)">x</a>', "`<script>`", "```\n<script>\n```",
]
TAG = re.compile(r"<[^>]*>")
EVENT_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
BAD_URL = re.compile(r"""(href|src)\s*=\s*["']?\s*(javascript|data|vbscript):""", re.IGNORECASE)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.text(max_size=30), st.sampled_from(PAYLOADS)), max_size=6))
def test_case1_markdown_never_renders_scripts_event_handlers_or_bad_schemes(pieces):
    rendered = to_html("".join(pieces))

    tags = TAG.findall(rendered)
    assert not re.search(r"<\s*(script|iframe|svg|object|embed|style)", rendered, re.I)
    assert not any(EVENT_ATTRIBUTE.search(tag) for tag in tags)
    assert not any(BAD_URL.search(tag) for tag in tags)


@pytest.mark.parametrize("payload", PAYLOADS[:4])
def test_case1_html_in_a_message_shows_as_text(payload):
    assert "&lt;" in to_html(payload)


# -- case 3: names and titles ------------------------------------------------------------------

PAYLOAD = '<img src=x onerror=alert(1)>'


def test_case3_names_and_titles_with_markup_render_escaped(app, client, make_user):
    make_user("boss@example.com", role="admin", display_name=PAYLOAD)
    with app.app_context():
        boss = accounts_repo.user_by_email("boss@example.com")
        db.session.add(Role(name="r" + PAYLOAD, description=PAYLOAD, permissions=["chat"]))
        db.session.add(Conversation(user_id=boss.id, model="mock/echo", title=PAYLOAD))
        db.session.commit()
    log_in(client, "boss@example.com")
    for path in ("/", "/settings/", "/admin/", "/admin/users/", "/admin/roles/",
                 "/admin/audit/"):
        html = client.get(path).get_data(as_text=True)
        assert "<img src=x" not in html, path
    shown = client.get("/").get_data(as_text=True) + client.get("/admin/users/").get_data(
        as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown  # there, as text
