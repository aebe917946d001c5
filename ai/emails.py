"""Emails from the AI layer to the workspace's managers: plain text from templates, rendered here and not in
services."""

from __future__ import annotations

from typing import Any

from django.core.mail import send_mail
from django.template.loader import render_to_string


def budget_exhausted_send(*, recipients: list[str], context: dict[str, Any]) -> None:
    """ "This month's budget is spent" for one provider configuration (context: config, month, workspace_name,
    settings_url)."""
    subject = render_to_string("ai/email/budget_exhausted_subject.txt", context).strip()
    body = render_to_string("ai/email/budget_exhausted_message.txt", context)
    send_mail(subject, body, None, recipients)
