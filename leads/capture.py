"""Lead capture: the forms a workspace embeds on its own site, and a visitor's submission becoming a lead.

Reads (the form a public key names, whether a page's origin may show it) and writes (create, edit, rotate the key,
accept a submission) of capture forms. A submission is matched with the companies and contacts that exist (the
contact's email, then the email's domain or the company name, through customers.facade, as the CSV import does;
unknown ones stay as the lead's prospect details until a win) and is made by services.lead_create, so the board,
timeline and live events follow. Its client submission id makes a double submit one lead.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.origins import origin_normalize
from customers import facade as customers

from . import services
from .models import CaptureField, Lead, LeadActivity, LeadCaptureForm, LeadCaptureSubmission, StageKind

MAX_KEY_LENGTH = 40
MAX_ORIGINS = 20
FORM_FIELDS = frozenset(
    {"name", "enabled", "allowed_origins", "stage", "default_owner", "shown_fields", "currency", "thank_you"}
)
FOLLOW_UP_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class CaptureSubmission:
    """What a visitor sent, already checked by the public form (leads/capture_forms.py)."""

    submission_id: uuid.UUID
    name: str
    email: str
    company: str = ""
    phone: str = ""
    message: str = ""
    value: Decimal | None = None


# --- Reads --------------------------------------------------------------------------------------


def capture_form_list() -> list[LeadCaptureForm]:
    return list(LeadCaptureForm.objects.select_related("stage__pipeline", "default_owner").order_by("name", "id"))


def capture_form_get(*, capture_form_id: int) -> LeadCaptureForm:
    return LeadCaptureForm.objects.select_related("stage__pipeline", "default_owner").get(pk=capture_form_id)


def capture_form_for_key(key: object) -> LeadCaptureForm | None:
    """The enabled form with this public key in this workspace, or None (unknown, disabled, or another's)."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        return None
    return LeadCaptureForm.objects.filter(public_key=key, enabled=True).first()


def capture_origin_allowed(form: LeadCaptureForm, origin: str) -> bool:
    normalized = origin_normalize(origin)
    return bool(normalized) and normalized in form.allowed_origins


# --- Forms --------------------------------------------------------------------------------------


def _check_form(form: LeadCaptureForm) -> None:
    origins = [origin_normalize(origin) for origin in form.allowed_origins or []]
    if not all(origins):
        raise ValidationError({"allowed_origins": "Every site must be an origin like https://www.example.com."})
    form.allowed_origins = list(dict.fromkeys(origins))
    if len(form.allowed_origins) > MAX_ORIGINS:
        raise ValidationError({"allowed_origins": f"At most {MAX_ORIGINS} sites."})
    if form.enabled and not form.allowed_origins:
        raise ValidationError({"allowed_origins": "List at least one site before switching the form on."})
    if form.stage is not None and form.stage.kind != StageKind.OPEN:
        raise ValidationError({"stage": "New leads need an open stage, not a won or lost one."})
    if form.default_owner is not None and not form.default_owner.is_active:
        raise ValidationError({"default_owner": "This teammate's account is deactivated."})
    form.shown_fields = [field for field in CaptureField.values if field in set(form.shown_fields or [])]
    form.currency = (form.currency or "USD").strip().upper()
    form.name = (form.name or "").strip()
    form.thank_you = (form.thank_you or "").strip()


@transaction.atomic
def capture_form_create(**values: Any) -> LeadCaptureForm:
    unknown = set(values) - FORM_FIELDS
    if unknown:
        raise TypeError(f"Capture forms have no field(s) {', '.join(sorted(unknown))}.")
    form = LeadCaptureForm(**values)
    _check_form(form)
    form.full_clean()
    form.save()
    return form


@transaction.atomic
def capture_form_update(*, form: LeadCaptureForm, **values: Any) -> LeadCaptureForm:
    unknown = set(values) - FORM_FIELDS
    if unknown:
        raise TypeError(f"Capture forms have no field(s) {', '.join(sorted(unknown))}.")
    for name, value in values.items():
        setattr(form, name, value)
    _check_form(form)
    form.full_clean()
    form.save()
    return form


def capture_form_key_rotate(*, form: LeadCaptureForm) -> LeadCaptureForm:
    """A new public key: the old snippet stops working at once (a key copied onto a site that abuses it)."""
    form.public_key = "lf_" + secrets.token_urlsafe(18)
    form.save(update_fields=["public_key"])
    return form


# --- Submissions --------------------------------------------------------------------------------


@transaction.atomic
def capture_submit(*, form: LeadCaptureForm, submission: CaptureSubmission, origin: str) -> tuple[Lead | None, bool]:
    """The lead a submission makes, and whether it is new: the same submission id again returns the first lead.

    Two simultaneous requests with one id (a double click) race on the unique (form, submission id) row: the second
    waits for the first to commit, fails to insert and answers with the first's lead."""
    if not form.enabled:
        raise ValidationError("This form is switched off.", code="disabled")
    try:
        with transaction.atomic():
            record = LeadCaptureSubmission.objects.create(
                form=form, submission_id=submission.submission_id, origin=origin[:200]
            )
    except IntegrityError:
        record = LeadCaptureSubmission.objects.select_related("lead").get(
            form=form, submission_id=submission.submission_id
        )
        return record.lead, False
    lead = _lead_for(form, submission)
    record.lead = lead
    record.save(update_fields=["lead"])
    return lead, True


def _lead_for(form: LeadCaptureForm, submission: CaptureSubmission) -> Lead:
    email = submission.email.strip().lower()
    company = submission.company.strip()
    contact = customers.contact_match(email=email)
    customer = contact.customer if contact else customers.customer_match(domain=email.rpartition("@")[2], name=company)
    lead = services.lead_create(
        actor=None,
        title=f"{company or submission.name.strip()} (web form)"[:200],
        stage=form.stage,
        customer=customer,
        contact=contact,
        source=Lead.Source.WEB_FORM,
        owner=form.default_owner if form.default_owner and form.default_owner.is_active else None,
        value=submission.value or 0,
        currency=form.currency,
        company_name=company or (customer.name if customer else ""),
        contact_name=submission.name,
        contact_email=email,
        source_ref=f"{form.pk}:{submission.submission_id}",
    )
    if submission.message.strip() or submission.phone.strip():
        _follow_up(lead, submission)
    return lead


def _follow_up(lead: Lead, submission: CaptureSubmission) -> None:
    """The visitor's message and phone become a task on the lead: it is what the owner answers first."""
    notes = submission.message.strip()
    if submission.phone.strip():
        notes = f"{notes}\n\nPhone: {submission.phone.strip()}".strip()
    services.lead_activity_create(
        lead=lead,
        actor=None,
        kind=LeadActivity.Kind.TASK,
        subject=f"Answer {submission.name.strip()[:150]}'s web form message",
        notes=notes,
        due_at=timezone.now() + FOLLOW_UP_AFTER,
    )
