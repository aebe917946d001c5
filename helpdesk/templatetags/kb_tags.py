"""Knowledge-base filters: article Markdown as safe HTML, and whether a user has a capability (for buttons)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from accounts.roles import user_can
from core.markdown import markdown_to_html, markdown_to_text

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """{{ article.body|markdown }}: rendered and sanitised (core.markdown), so marking it safe is sound."""
    return mark_safe(markdown_to_html(text))  # sanitised by nh3 in markdown_to_html


@register.filter
def plain(text: str) -> str:
    """{{ article.body|plain|truncatewords:30 }}: the words without Markdown, for snippets."""
    return markdown_to_text(text)


@register.filter
def can(user, capability: str) -> bool:
    """{% if user|can:"kb.edit" %}: buttons only for people whose role allows the action (views check again)."""
    return user_can(user, capability)
