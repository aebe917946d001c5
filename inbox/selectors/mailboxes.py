"""Reads of mailboxes: the Settings → Channels list, one mailbox, and which mailboxes are due for a poll."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from core.workspace_config import workspace_config_get, workspace_config_watch

from ..models import Mailbox

# A failing mailbox is retried less and less often (2, 4, 8… minutes), at least once an hour.
MAX_BACKOFF = timedelta(hours=1)


def mailboxes_watch() -> None:
    """Called once at start-up (InboxConfig.ready): saving or deleting a mailbox renews every process's copy."""
    workspace_config_watch(Mailbox)


def mailboxes_known() -> tuple[Mailbox, ...]:
    """This workspace's mailboxes, from the per-process copy (core.workspace_config): read for every filed message
    (our own addresses, the acknowledgement's sender), changed by an admin now and then. Read-only objects."""
    return workspace_config_get("inbox:mailboxes", lambda: tuple(Mailbox.objects.order_by("name", "id")))


def mailbox_list() -> QuerySet[Mailbox]:
    return Mailbox.objects.order_by("-is_default", "name", "id")


def mailbox_get(*, pk: int) -> Mailbox:
    return Mailbox.objects.get(pk=pk)


def mailbox_forwarding_address(mailbox: Mailbox) -> str:
    """Where a provider forwards this mailbox's mail: the platform's inbound domain, named by workspace and mailbox."""
    return f"{connection.schema_name}-{mailbox.pk}@{settings.INBOX_FORWARD_DOMAIN}"


def forwarding_address_parse(address: str) -> tuple[str, int] | None:
    """(schema name, mailbox id) named by a forwarding address (`mailbox_forwarding_address`), or None."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    if domain.lower() != settings.INBOX_FORWARD_DOMAIN.lower():
        return None
    schema, _, mailbox_id = local.lower().rpartition("-")
    if not schema or not mailbox_id.isdigit():
        return None
    return schema, int(mailbox_id)


def mailboxes_due_ids(kinds: set[str]) -> list[int]:
    """Active mailboxes of `kinds`, minus failing ones still inside their back-off."""
    now = timezone.now()
    due = []
    for pk, failures, checked in Mailbox.objects.filter(active=True, kind__in=kinds).values_list(
        "pk", "consecutive_failures", "last_checked_at"
    ):
        if failures and checked and now - checked < failure_backoff(failures):
            continue
        due.append(pk)
    return due


def failure_backoff(failures: int) -> timedelta:
    if failures < 2:
        return timedelta(0)
    return min(timedelta(minutes=2 ** min(failures - 1, 10)), MAX_BACKOFF)
