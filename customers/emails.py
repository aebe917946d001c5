"""Emails from customers: a task's reminder to its owner. Plain text from templates, sent after commit.

Links point at the workspace's configured domain (core.links), never at a request's Host header (the reminder
is sent by a beat job anyway). A mail server that refuses is logged; the reminder is not retried.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from core.links import workspace_url

logger = logging.getLogger(__name__)


def _task_url(task) -> str:
    if task.contact_id:
        return workspace_url(reverse("customers:contact_detail", args=[task.contact_id]))
    return workspace_url(reverse("customers:customer_detail", args=[task.customer_id]))


def task_reminder_send_on_commit(*, task) -> None:
    """ "Reminder: <title>" to the task's owner, once the surrounding transaction commits."""
    context = {
        "task": task,
        "subject_name": task.contact.name if task.contact_id else task.customer.name,
        "url": _task_url(task),
        "workspace_name": getattr(getattr(connection, "tenant", None), "name", "") or "Switchboard",
    }
    subject = " ".join(render_to_string("customers/email/task_reminder_subject.txt", context).split())
    body = render_to_string("customers/email/task_reminder_message.txt", context)
    recipient = task.owner.email

    def send() -> None:
        try:
            send_mail(subject, body, None, [recipient])
        except Exception:
            logger.exception("could not send the reminder of task %s", task.pk)

    transaction.on_commit(send)
