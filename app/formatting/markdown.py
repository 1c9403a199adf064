"""Browser Markdown: a message's Markdown as safe HTML for the chat page.

Markdown is rendered by markdown-it-py with raw HTML off, code highlighted by Pygments, and
the output sanitised by nh3 so no script, event handler, foreign scheme or remote image survives.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a", "span", "div",
    "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _formatter():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


def _highlight(code: str, language: str, _attrs) -> str:
    from pygments import highlight
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes the code itself
    return highlight(code, lexer, _formatter())


# markdown-it, Pygments and nh3 (~3 MB a worker) are loaded by the first message rendered:
# a worker that serves only the JSON API never loads them.
@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "highlight": _highlight})
    md.enable("table").enable("strikethrough")
    # Images become their alt text: a remote image could carry data out of the page.
    md.add_render_rule("image", lambda self, tokens, idx, options, env: _alt(tokens[idx]))
    return md


def _alt(token) -> str:
    return escape(token.content or "")


# A stored message never changes once complete, so its rendering is kept: rendering and
# sanitising cost ~0.2 ms a message, which decides how fast a long conversation page is.
@lru_cache(maxsize=4096)
def to_html(text: str) -> str:
    """Markdown to safe HTML."""
    import nh3

    rendered = _markdown().render(text or "")
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
