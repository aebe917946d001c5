"""Expiry reminders: QUOTE_EXPIRY_REMINDER_DAYS before a sent quote's validity date, its owner gets one email ("Q-00012
for Acme expires on … — follow up"), sent once (Quote.expiry_reminded_at, cleared when the date changes) by a beat
job per workspace (quotes.tasks) through the claim-once skeleton every app's reminders share (core.reminders)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.urls import reverse
from django.utils import timezone

from core.emails import templated_email_send, workspace_name
from core.links import workspace_url
from core.reminders import due_reminders_send

from .models import Quote

logger = logging.getLogger(__name__)
EMAIL_PREFIX = "quotes/email/expiry_reminder"


def expiry_reminders_send(*, now: datetime | None = None, days: int | None = None) -> int:
    """Emails the owner of each sent or viewed quote that expires within `days` (the workspace default when None)
    and has not been reminded; returns how many went out.

    The reminder is due at midnight `days` before `valid_until`. A quote sent after that moment is not reminded: its
    owner has just looked at it, and the expiry itself is what happens next. An expired date is the expiry job's.
    """
    days = settings.QUOTE_EXPIRY_REMINDER_DAYS if days is None else days
    now = now or timezone.now()
    remind_at = ExpressionWrapper(F("valid_until") - timedelta(days=days), output_field=DateTimeField())
    quotes = (
        Quote.objects.out()
        .filter(owner__is_active=True, valid_until__gte=timezone.localdate(now))
        .annotate(expiry_remind_at=remind_at)
        .filter(sent_at__lt=F("expiry_remind_at"))
        .select_related("owner", "customer", "lead")
    )
    return due_reminders_send(
        quotes,
        remind_field="expiry_remind_at",
        sent_field="expiry_reminded_at",
        send_on_commit=expiry_reminder_send_on_commit,
        now=now,
    )


def quote_party_name(quote: Quote) -> str:
    """Who the quote is for, as its owner calls it: the company, else the lead."""
    if quote.customer_id:
        return quote.customer.name
    return quote.lead.title if quote.lead_id else quote.title


def expiry_reminder_send_on_commit(quote: Quote) -> None:
    """ "Q-00012 for Acme expires on … — follow up" to the owner, once the surrounding transaction commits."""
    context = {
        "quote": quote,
        "party": quote_party_name(quote),
        "recipient": quote.owner,
        "days_left": (quote.valid_until - timezone.localdate()).days,
        "url": workspace_url(reverse("quotes:quote_detail", args=[quote.pk])),
        "workspace_name": workspace_name(),
    }

    def send() -> None:
        try:
            templated_email_send(EMAIL_PREFIX, quote.owner.email, context)
        except Exception:
            logger.exception("could not send the expiry reminder of quote %s", quote.pk)

    transaction.on_commit(send)
