"""Template filters of customer pages: a note's Markdown as safe HTML."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from core.markdown import markdown_to_html

register = template.Library()


@register.filter
def note_html(text: str) -> SafeString:
    return mark_safe(markdown_to_html(text))  # sanitised by nh3 in markdown_to_html
