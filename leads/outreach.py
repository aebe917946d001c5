"""The outreach plan's email drafts written by a generative provider (the shipped "leads_outreach" prompt, or the
workspace's override of it), and the check every such draft must pass before a salesperson sees it.

A draft is refused when it carries something the lead's facts do not: a number (a price, a discount, a date, a
percentage), a link or an e-mail address, or a placeholder of redacted personal data; or when it is empty or
overlong. One refused draft, a provider error or an answer with the wrong number of drafts, and the whole plan keeps
the template drafts (leads.intelligence): a half-generated plan would read as two voices.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from ai import facade as ai
from core.emails import workspace_name

from .models import Lead, LeadActivity

logger = logging.getLogger(__name__)
FEATURE = "leads_outreach"
MAX_DRAFT_CHARS = 1500
RECENT_ACTIVITIES = 5
SCHEMA = {
    "type": "object",
    "properties": {"drafts": {"type": "array", "items": {"type": "string"}}},
    "required": ["drafts"],
}


def lead_facts(lead: Lead, steps: Sequence[Any]) -> dict[str, str]:
    """What the prompt may tell the model about the lead: the same facts a draft is checked against."""
    activities = LeadActivity.objects.filter(lead=lead).order_by("-created", "-id")[:RECENT_ACTIVITIES]
    emails = [step for step in steps if step.kind == "email"]
    close = f"{lead.expected_close:%B %-d, %Y} ({lead.expected_close.isoformat()})" if lead.expected_close else ""
    return {
        "workspace_name": workspace_name(),
        "title": lead.title,
        "company": lead.customer.name if lead.customer_id else lead.company_name,
        "contact": lead.contact.name if lead.contact_id else lead.contact_name,
        "stage": lead.stage.name,
        "value": f"{lead.value:,.0f} {lead.currency}",
        "close": close or "not set",
        "activities": "\n".join(f"- {a.get_kind_display()}: {a.subject}" for a in activities) or "- none yet",
        "steps": "\n".join(f"{n}. {step.day:%A %B %-d}: {step.subject}" for n, step in enumerate(emails, 1)),
    }


def draft_problems(draft: str, *, facts: str) -> tuple[str, ...]:
    """Why `draft` must not be offered (empty when it may): see the module docstring. `facts`: every fact the prompt
    gave, as one text; numbers and links found there may be repeated."""
    return ai.generated_text_problems(draft, facts=facts, max_chars=MAX_DRAFT_CHARS, source="the lead")


def generated_drafts(
    lead: Lead, steps: Sequence[Any], *, user: Any = None, today: date
) -> tuple[list[str], str] | None:
    """One checked draft per email step and the model that wrote them; None when no generative provider is set up,
    it fails, or any draft fails the check (the caller keeps its template drafts)."""
    emails = [step for step in steps if step.kind == "email"]
    if not emails or not ai.can_generate():
        return None
    facts = lead_facts(lead, steps)
    try:
        result = ai.generate(FEATURE, facts, user=user, json_schema=SCHEMA, max_output_tokens=900)
    except (ai.AIUnavailable, ai.AIInputError):
        logger.info("outreach drafts of lead %s: no generative answer, the template drafts stay", lead.pk)
        return None
    drafts = [str(draft).strip() for draft in (result.data or {}).get("drafts", [])]
    if len(drafts) != len(emails):
        logger.info("outreach drafts of lead %s: %d drafts for %d emails", lead.pk, len(drafts), len(emails))
        return None
    known = "\n".join([*facts.values(), *(step.day.isoformat() for step in steps), today.isoformat()])
    for draft in drafts:
        problems = draft_problems(draft, facts=known)
        if problems:
            logger.info("outreach drafts of lead %s refused: %s", lead.pk, " ".join(problems))
            return None
    return drafts, (result.meta.model if result.meta and result.meta.model else "generative")
