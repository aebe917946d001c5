"""The quote copilot's executive summary and email copy, grounded in the quote's lines and the lead's notes.

Offline (the default): retrieval plus templates that only ever repeat the quote's own figures (lines, totals, the
validity date, the reference), recorded as local runs. With a cloud provider (`ai.facade.can_generate()`): the
shipped "quote_summary" and "quote_email" prompts write them, and every answer is checked the way leads.outreach
checks outreach drafts. A text is refused when it states a number the quote does not have (a price, a discount, a
percentage, a date: the lead's notes are context, not figures to quote), a link or an e-mail address, a placeholder
of redacted personal data, or when it is empty or overlong; then the template is used, and `refused` says why.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ai import facade as ai
from core.emails import workspace_name

from .copilot import QuoteFacts, quote_facts
from .models import Quote

logger = logging.getLogger(__name__)
SUMMARY_FEATURE = "quote_summary"
EMAIL_FEATURE = "quote_email"
MAX_SUMMARY_CHARS = 1200
MAX_EMAIL_CHARS = 2500
MAX_SUBJECT_CHARS = 150
TEMPLATE_LINES = 5  # lines a template names before "and N more"
RECENT_NOTES = 5
EMAIL_SCHEMA = {
    "type": "object",
    "properties": {"subject": {"type": "string"}, "body": {"type": "string"}},
    "required": ["subject", "body"],
}


@dataclass(frozen=True)
class Writing:
    kind: str  # "summary" or "email"
    text: str  # the summary, or the email's body
    subject: str = ""  # the email's subject
    by: str = "template"  # or the generative model's name
    run_id: int | None = None
    refused: tuple[str, ...] = ()  # why a generated text was not used (the template was)


# --- The facts, and the check ------------------------------------------------------------------------------------


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}" if amount == amount.quantize(Decimal("0.01")) else f"{amount:,f} {currency}"


def _line_text(line: Any, currency: str) -> str:
    name = (line.description or "").splitlines()[0][:120] if line.description else "Unnamed line"
    unit = f" {line.unit}" if line.unit else ""
    text = f"{name}: {_number(line.quantity)}{unit} × {_money(line.unit_price, currency)}"
    if line.discount:
        text += f", discount {_number(line.discount)} %"
    if line.tax_rate:
        text += f", tax {_number(line.tax_rate)} %"
    text += f" = {_money(line.net, currency)}"
    return text + (" (optional)" if line.optional else "")


def quote_figures(facts: QuoteFacts) -> dict[str, str]:
    """What a text may say about the quote: the prompt's facts, and every number a text is checked against."""
    quote, totals = facts.quote, facts.sheet.totals
    valid = f"{quote.valid_until:%B %-d, %Y} ({quote.valid_until.isoformat()})" if quote.valid_until else "not set"
    return {
        "workspace_name": workspace_name(),
        "reference": quote.reference,
        "title": quote.title,
        "company": quote.customer.name if quote.customer_id else "",
        "contact": quote.contact.name if quote.contact_id else "",
        "owner": quote.owner.get_full_name() if quote.owner_id else "",
        "currency": quote.currency,
        "lines": "\n".join(f"- {_line_text(line, quote.currency)}" for line in facts.items) or "- none yet",
        "subtotal": _money(totals.subtotal, quote.currency),
        "tax": _money(totals.tax_total, quote.currency),
        "total": _money(totals.total, quote.currency),
        "valid_until": valid,
        "payment_terms": quote.payment_terms or "not set",
    }


def _notes(facts: QuoteFacts) -> str:
    rows = [f"- {n.kind_label}: {n.subject}. {n.notes[:200]}".strip() for n in facts.notes[:RECENT_NOTES]]
    return "\n".join(rows) or "- none logged"


def text_problems(text: str, *, figures: str, max_chars: int) -> tuple[str, ...]:
    """Why `text` must not be offered (empty when it may); `figures`: the quote's facts as one text."""
    return ai.generated_text_problems(text, facts=figures, max_chars=max_chars, source="the quote")


# --- Templates (offline) ----------------------------------------------------------------------------------------


def _named_lines(facts: QuoteFacts, *, optional: bool) -> list[str]:
    lines = sorted((line for line in facts.items if line.optional == optional), key=lambda line: -line.net)
    unit = lambda line: f" {line.unit}" if line.unit else ""  # noqa: E731
    return [
        f"{(line.description or 'Unnamed line').splitlines()[0][:80]} ({_number(line.quantity)}{unit(line)})"
        for line in lines
    ]


def _listed(names: list[str]) -> str:
    shown = names[:TEMPLATE_LINES]
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f" and {rest} more" if rest else "")


def _conversation(facts: QuoteFacts) -> str:
    """The latest logged subject without digits (a template repeats no number the quote does not have)."""
    return next((note.subject for note in facts.notes if note.subject and not re.search(r"\d", note.subject)), "")


def template_summary(facts: QuoteFacts, figures: dict[str, str]) -> str:
    quote = facts.quote
    if not facts.items:
        return f"{quote.reference} “{quote.title}” has no lines yet."
    who = f" for {figures['company']}" if figures["company"] else ""
    parts = [f"{quote.reference} “{quote.title}”{who}."]
    included = _named_lines(facts, optional=False)
    if included:
        parts.append(f"It covers {_listed(included)}.")
    parts.append(f"Total {figures['total']} including {figures['tax']} tax ({figures['subtotal']} before tax).")
    options = _named_lines(facts, optional=True)
    if options:
        parts.append(f"Options the customer may add: {_listed(options)}.")
    if quote.valid_until:
        parts.append(f"Valid until {quote.valid_until:%B %-d, %Y}.")
    if quote.payment_terms:
        parts.append(f"Payment terms: {quote.payment_terms}.")
    if topic := _conversation(facts):
        parts.append(f"Latest conversation: {topic}.")
    return " ".join(parts)


def template_email(facts: QuoteFacts, figures: dict[str, str]) -> tuple[str, str]:
    quote = facts.quote
    first = figures["contact"].split()[0] if figures["contact"] else "there"
    topic = _conversation(facts)
    thanks = (
        f"Thank you for the conversation about {topic}." if topic else f"Thank you for your interest in {quote.title}."
    )
    listed = "\n".join(f"- {_line_text(line, quote.currency)}" for line in facts.items if not line.optional)
    body = [
        f"Hi {first},",
        f"{thanks} Here is our quote {quote.reference} for {quote.title}:",
        listed or "- (no lines yet)",
    ]
    closing = f"The total is {figures['total']} including tax"
    closing += f", and the offer is valid until {quote.valid_until:%B %-d, %Y}." if quote.valid_until else "."
    body.append(closing)
    options = _named_lines(facts, optional=True)
    if options:
        body.append(f"You may also add {_listed(options)}: tick them when you accept.")
    body.append("Is there anything you would like us to adjust?")
    body.append(f"Best regards,\n{figures['owner'] or figures['workspace_name']}")
    return f"Your quote {quote.reference}: {quote.title}", "\n\n".join(body)


# --- Generation with a cloud provider -----------------------------------------------------------------------------


def _prompt_context(figures: dict[str, str], facts: QuoteFacts) -> dict[str, str]:
    return {**figures, "notes": _notes(facts)}


def _generated_summary(facts: QuoteFacts, figures: dict[str, str], user: Any) -> Writing | tuple[str, ...] | None:
    try:
        result = ai.generate(SUMMARY_FEATURE, _prompt_context(figures, facts), user=user, max_output_tokens=400)
    except (ai.AIUnavailable, ai.AIInputError):
        logger.info("summary of quote %s: no generative answer, the template stays", facts.quote.pk)
        return None
    text = (result.text or "").strip()
    problems = text_problems(text, figures="\n".join(figures.values()), max_chars=MAX_SUMMARY_CHARS)
    if problems:
        logger.info("summary of quote %s refused: %s", facts.quote.pk, " ".join(problems))
        return problems
    return Writing("summary", text, by=_model(result), run_id=result.meta.run_id if result.meta else None)


def _generated_email(facts: QuoteFacts, figures: dict[str, str], user: Any) -> Writing | tuple[str, ...] | None:
    context = _prompt_context(figures, facts)
    try:
        result = ai.generate(EMAIL_FEATURE, context, user=user, json_schema=EMAIL_SCHEMA, max_output_tokens=900)
    except (ai.AIUnavailable, ai.AIInputError):
        logger.info("email of quote %s: no generative answer, the template stays", facts.quote.pk)
        return None
    data = result.data or {}
    subject, body = str(data.get("subject", "")).strip(), str(data.get("body", "")).strip()
    known = "\n".join(figures.values())
    problems = text_problems(subject, figures=known, max_chars=MAX_SUBJECT_CHARS) + text_problems(
        body, figures=known, max_chars=MAX_EMAIL_CHARS
    )
    if problems:
        logger.info("email of quote %s refused: %s", facts.quote.pk, " ".join(problems))
        return tuple(dict.fromkeys(problems))
    return Writing("email", body, subject, by=_model(result), run_id=result.meta.run_id if result.meta else None)


def _model(result: Any) -> str:
    return result.meta.model if result.meta and result.meta.model else "generative"


def _recorded(writing: Writing, facts: QuoteFacts, user: Any) -> Writing:
    feature = SUMMARY_FEATURE if writing.kind == "summary" else EMAIL_FEATURE
    text = f"{writing.subject}\n\n{writing.text}" if writing.subject else writing.text
    try:
        meta = ai.record_local_output(feature, text, data={"quote_id": facts.quote.pk}, model="template", user=user)
    except ai.AIInputError:
        return writing
    return Writing(writing.kind, writing.text, writing.subject, "template", meta.run_id, writing.refused)


def quote_executive_summary(quote: Quote, *, user: Any = None, facts: QuoteFacts | None = None) -> Writing:
    """A short summary of the quote for the customer or a manager: generated and checked with a cloud provider,
    the template otherwise (or when the generated one was refused)."""
    facts = facts or quote_facts(quote)
    figures = quote_figures(facts)
    generated = _generated_summary(facts, figures, user) if ai.can_generate() and facts.items else None
    if isinstance(generated, Writing):
        return generated
    writing = Writing("summary", template_summary(facts, figures), refused=generated or ())
    return _recorded(writing, facts, user)


def quote_email_copy(quote: Quote, *, user: Any = None, facts: QuoteFacts | None = None) -> Writing:
    """The email that goes with the quote: generated and checked with a cloud provider, the template otherwise."""
    facts = facts or quote_facts(quote)
    figures = quote_figures(facts)
    generated = _generated_email(facts, figures, user) if ai.can_generate() and facts.items else None
    if isinstance(generated, Writing):
        return generated
    subject, body = template_email(facts, figures)
    return _recorded(Writing("email", body, subject, refused=generated or ()), facts, user)
