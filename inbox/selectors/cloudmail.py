"""Reads of Microsoft 365 and Gmail mailboxes for the settings pages."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import Mailbox

CLOUD_KINDS = (Mailbox.Kind.MICROSOFT365, Mailbox.Kind.GMAIL)


def cloud_mailbox_list() -> QuerySet[Mailbox]:
    return Mailbox.objects.filter(kind__in=CLOUD_KINDS).order_by("name", "id")


def mailbox_get(*, mailbox_id: int) -> Mailbox | None:
    return Mailbox.objects.filter(pk=mailbox_id).first()
