"""The outreach plan's email drafts written by a generative provider (the shipped "leads_outreach" prompt, or the
workspace's override of it), and the check every such draft must pass before a salesperson sees it.

A draft is refused when it carries something the lead's facts do not: a number (a price, a discount, a date, a
percentage), a link or an e-mail address, or a placeholder of redacted personal data; or when it is empty or
overlong. One refused draft, a provider error or an answer with the wrong number of drafts, and the whole plan keeps
the template drafts (leads.intelligence): a half-generated plan would read as two voices.
"""

from __future__ import annotations

import logging
import re
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
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_LINK = re.compile(r"https?://\S+|\bwww\.\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_DOMAIN = re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|ai|app|dev|de|fr|uk|eu)\b", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|CARD|IBAN|NATIONAL_ID|IP)_\d+\]")


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


def _numbers(text: str) -> set[str]:
    return {number.replace(",", "").rstrip(".") for number in _NUMBER.findall(text)}


def draft_problems(draft: str, *, facts: str) -> tuple[str, ...]:
    """Why `draft` must not be offered (empty when it may): see the module docstring. `facts`: every fact the prompt
    gave, as one text; numbers and links found there may be repeated."""
    problems = []
    if not draft.strip():
        problems.append("It is empty.")
    if len(draft) > MAX_DRAFT_CHARS:
        problems.append("It is too long for a follow-up email.")
    invented = _numbers(draft) - _numbers(facts)
    if invented:
        problems.append(f"It states numbers the lead does not have: {', '.join(sorted(invented)[:3])}.")
    known = facts.lower()
    links = [link.rstrip(".,;:!?)") for link in [*_LINK.findall(draft), *_DOMAIN.findall(draft)]]
    if any(link.lower() not in known for link in links):
        problems.append("It contains a link or address the lead does not have.")
    if _PLACEHOLDER.search(draft):
        problems.append("It contains redacted personal data.")
    return tuple(problems)


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
