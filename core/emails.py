"""Emails the product sends by itself, for every app: the workspace's name to sign with, and a templated email
(`<prefix>_subject.txt`, `<prefix>_message.txt` and its HTML twin `<prefix>_message.html`)."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.template.loader import render_to_string


def workspace_name() -> str:
    """The current workspace's name ("Switchboard" outside one)."""
    return getattr(getattr(connection, "tenant", None), "name", "") or "Switchboard"


def templated_email_send(prefix: str, to: str, context: dict) -> None:
    subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
    message = EmailMultiAlternatives(subject, render_to_string(f"{prefix}_message.txt", context), to=[to])
    message.attach_alternative(render_to_string(f"{prefix}_message.html", context), "text/html")
    message.send()
