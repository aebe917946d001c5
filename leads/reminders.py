"""Lead activity reminders: once an activity's reminder time has passed, its lead's owner (or, for a lead without
one, whoever planned the activity) gets one email, sent once (LeadActivity.reminded_at) by a beat job per workspace
(leads.tasks) through the same claim-once skeleton as customers' task reminders (core.reminders)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from core.emails import templated_email_send, workspace_name
from core.links import workspace_url
from core.reminders import due_reminders_send

from .models import LeadActivity

logger = logging.getLogger(__name__)
EMAIL_PREFIX = "leads/email/activity_reminder"


def activity_recipient(activity: LeadActivity):
    """Who is reminded: the lead's owner, else the activity's author."""
    return activity.lead.owner if activity.lead.owner_id else activity.created_by


def activity_reminders_send(*, now: datetime | None = None) -> int:
    """Emails each open activity's reminder once its time has passed; returns how many went out."""
    active_recipient = Q(lead__owner__is_active=True) | Q(lead__owner__isnull=True, created_by__is_active=True)
    return due_reminders_send(
        LeadActivity.objects.filter(active_recipient, done=False).select_related(
            "lead", "lead__owner", "lead__customer", "created_by"
        ),
        remind_field="remind_at",
        sent_field="reminded_at",
        send_on_commit=activity_reminder_send_on_commit,
        now=now,
    )


def activity_reminder_send_on_commit(activity: LeadActivity) -> None:
    """ "Reminder: <subject>" to the recipient, once the surrounding transaction commits."""
    recipient = activity_recipient(activity)
    context = {
        "activity": activity,
        "lead": activity.lead,
        "recipient": recipient,
        "url": workspace_url(reverse("leads:lead_detail", args=[activity.lead_id])),
        "workspace_name": workspace_name(),
    }

    def send() -> None:
        try:
            templated_email_send(EMAIL_PREFIX, recipient.email, context)
        except Exception:
            logger.exception("could not send the reminder of lead activity %s", activity.pk)

    transaction.on_commit(send)
