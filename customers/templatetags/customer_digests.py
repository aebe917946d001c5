"""Template tags of the company page's "Yesterday" card (customers/digests.py): the stored summary of yesterday."""

from __future__ import annotations

from django import template

from customers import digests

register = template.Library()


@register.simple_tag
def yesterday_summary(customer) -> dict:
    """Yesterday (workspace time zone), its stored summary or None, and its statements with their sources."""
    day = digests.yesterday()
    summary = digests.daily_summary_get(customer_id=customer.pk, day=day)
    statements = digests.statements_with_links(summary) if summary else []
    return {"day": day, "summary": summary, "statements": statements}
