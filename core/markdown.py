"""Markdown → safe HTML, and → plain text: knowledge-base articles (search, embeddings, previews) and the HTML
part of emailed replies (inbox), so every app renders Markdown the same way.

markdown-it-py (CommonMark, plus tables and strikethrough) renders with raw HTML switched off, so `<script>` in
an article shows as text; nh3 (the Ammonia sanitizer) then keeps only an allow-list of tags, attributes and URL
schemes. Two layers on purpose: articles are written by agents but shown to anonymous visitors of the public
help center, and a renderer bug alone must not become stored XSS.
"""

from __future__ import annotations

import re
from functools import cache
from html import unescape

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "td": {"align", "colspan", "rowspan"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# Bootstrap look for tables; links leave the page without handing it the referrer or `window.opener`.
ADDED = {"table": {"class": "table table-sm table-bordered"}, "img": {"class": "img-fluid", "loading": "lazy"}}


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values=ADDED,
        strip_comments=True,
    )


def markdown_to_html(text: str) -> str:
    """Sanitised HTML of an article body, safe to mark safe in a template."""
    if not (text or "").strip():
        return ""
    return _cleaner().clean(_parser().render(text))


_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t]+")


def markdown_to_text(text: str) -> str:
    """The words of an article without Markdown syntax: what search snippets and the embedding model read."""
    html = markdown_to_html(text)
    html = re.sub(r"</(p|li|h[1-6]|tr|pre|blockquote|div)>", "\n", html)
    plain = unescape(_TAG.sub(" ", html))
    lines = [_SPACE.sub(" ", line).strip() for line in plain.splitlines()]
    return "\n".join(line for line in lines if line)
