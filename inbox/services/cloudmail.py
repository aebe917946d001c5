"""Microsoft 365 and Gmail mailboxes: connecting them, testing them, and polling them with a visible health.

Each poll runs alone per mailbox (a cache lock: beat may fire again while a slow poll runs) and never raises: a
failure is written on the mailbox (`status=failing`, `last_error` in words an admin can act on,
`consecutive_failures`) and the next poll backs off, so one broken mailbox neither hides nor delays the others.
A provider's "wait N seconds" is kept in `cursor["not_before"]` and honoured by the next polls.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from core.crypto import DecryptionFailed
from core.outbox import enqueue_on_commit

from ..fetchers import FetchError, gmail, graph
from ..fetchers.base import CloudMailError, PollResult, RateLimited
from ..models import Mailbox
from .mailboxes import connection_check

logger = logging.getLogger(__name__)

CLOUD_KINDS = (Mailbox.Kind.MICROSOFT365, Mailbox.Kind.GMAIL)
POLL_LOCK_SECONDS = 15 * 60  # longer than any poll; a crashed worker's lock expires by itself
MAX_BACKOFF_SECONDS = 60 * 60
GMAIL_SESSION_KEY = "inbox.gmail_consent"

FETCHERS = {Mailbox.Kind.MICROSOFT365: graph.graph_poll, Mailbox.Kind.GMAIL: gmail.gmail_poll}
TESTERS = {Mailbox.Kind.MICROSOFT365: graph.graph_test, Mailbox.Kind.GMAIL: gmail.gmail_test}


# ---- polling --------------------------------------------------------------------------------------------------


def cloud_mailboxes_poll_queue() -> int:
    """Queues one poll per active Microsoft 365 / Gmail mailbox of this workspace."""
    from ..tasks.cloudmail import cloud_mailbox_poll_task

    ids = list(Mailbox.objects.filter(kind__in=CLOUD_KINDS, active=True).values_list("pk", flat=True))
    for mailbox_id in ids:
        enqueue_on_commit(cloud_mailbox_poll_task, mailbox_id)
    return len(ids)


def cloud_mailbox_poll(mailbox_id: int) -> str:
    """Polls one mailbox and records how it went. Returns a word for the task result: imported:N, skipped…"""
    mailbox = Mailbox.objects.filter(pk=mailbox_id, kind__in=CLOUD_KINDS, active=True).first()
    if mailbox is None:
        return "skipped: not an active cloud mailbox"
    not_before = float((mailbox.cursor or {}).get("not_before") or 0)
    if not_before > time.time():
        return f"skipped: waiting {not_before - time.time():.0f} s more"
    lock = f"inbox:cloudmail-poll:{mailbox.pk}"  # the cache key function adds the workspace schema
    if not cache.add(lock, "1", timeout=POLL_LOCK_SECONDS):
        return "skipped: another poll is running"
    try:
        result = FETCHERS[mailbox.kind](mailbox)
    except CloudMailError as error:
        _failure_record(mailbox, error)
        return f"{'rate-limited' if isinstance(error, RateLimited) else 'failed'}: {error}"
    except Exception as error:  # a bug must not stop the poller, nor keep the mailbox looking healthy
        logger.exception("cloud mailbox %s: poll crashed", mailbox.pk)
        _failure_record(mailbox, CloudMailError(f"Unexpected error while fetching mail ({type(error).__name__})."))
        return "failed: unexpected error"
    finally:
        cache.delete(lock)
    _success_record(mailbox, result)
    return f"imported:{result.imported}"


def _success_record(mailbox: Mailbox, result: PollResult) -> None:
    cursor = dict(mailbox.cursor or {})
    cursor.pop("not_before", None)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        status=Mailbox.Status.CONNECTED,
        last_checked_at=timezone.now(),
        last_error="",
        consecutive_failures=0,
        cursor=cursor,
    )
    if result.imported or result.waited:
        logger.info("cloud mailbox %s: %s", mailbox.pk, asdict(result))


def _failure_record(mailbox: Mailbox, error: CloudMailError) -> None:
    fresh = Mailbox.objects.filter(pk=mailbox.pk).values("cursor", "consecutive_failures").first() or {}
    failures = int(fresh.get("consecutive_failures") or 0) + 1
    cursor = dict(fresh.get("cursor") or {})
    if isinstance(error, RateLimited):
        # Asked to slow down: not broken, so the status stays; the wait is kept for the next polls.
        wait = float(error.retry_after or 0)
        cursor["not_before"] = time.time() + wait
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_checked_at=timezone.now(), last_error=str(error), cursor=cursor
        )
        return
    cursor["not_before"] = time.time() + min(MAX_BACKOFF_SECONDS, 60 * 2 ** min(failures - 1, 10))
    Mailbox.objects.filter(pk=mailbox.pk).update(
        status=Mailbox.Status.FAILING,
        last_checked_at=timezone.now(),
        last_error=str(error),
        consecutive_failures=failures,
        cursor=cursor,
    )
    logger.warning("cloud mailbox %s failing (%s in a row): %s", mailbox.pk, failures, error)


# ---- connection tests ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    message: str


def cloud_mailbox_test(mailbox: Mailbox) -> ConnectionTest:
    """Gets a token and reads the mailbox; the verdict is written on it (connected, or failing and why)."""
    try:
        message = TESTERS[mailbox.kind](mailbox)
    except CloudMailError as error:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            status=Mailbox.Status.FAILING, last_error=str(error), last_checked_at=timezone.now()
        )
        mailbox.refresh_from_db()
        return ConnectionTest(False, str(error))
    Mailbox.objects.filter(pk=mailbox.pk).update(
        status=Mailbox.Status.CONNECTED, last_error="", consecutive_failures=0, last_checked_at=timezone.now()
    )
    mailbox.refresh_from_db()
    return ConnectionTest(True, message)


# ---- Microsoft 365 --------------------------------------------------------------------------------------------


@transaction.atomic
def microsoft365_mailbox_save(
    *,
    name: str,
    address: str,
    tenant_id: str,
    client_id: str,
    client_secret: str,
    display_name: str = "",
    mailbox: Mailbox | None = None,
) -> Mailbox:
    """Creates or updates a Microsoft 365 mailbox. A blank secret on an update keeps the stored one."""
    address = address.strip().lower()
    clash = Mailbox.objects.filter(address=address).exclude(pk=getattr(mailbox, "pk", None))
    if clash.exists():
        raise ValidationError({"address": "Another mailbox already receives mail for this address."})
    if mailbox is None:
        mailbox = Mailbox(kind=Mailbox.Kind.MICROSOFT365)
        if not client_secret:
            raise ValidationError({"client_secret": "Enter the app registration's client secret."})
    changed_identity = mailbox.pk is not None and (
        mailbox.address != address or (mailbox.settings or {}).get("tenant_id") != tenant_id.strip()
    )
    mailbox.name = name.strip() or address
    mailbox.address = address
    mailbox.display_name = display_name.strip()
    mailbox.settings = {**(mailbox.settings or {}), "tenant_id": tenant_id.strip(), "client_id": client_id.strip()}
    if client_secret:
        mailbox.secrets_set({**_secrets_or_none(mailbox), "client_secret": client_secret.strip()})
    if changed_identity:
        mailbox.cursor = {}  # another mailbox: its delta link means nothing here
    mailbox.status = Mailbox.Status.NEW
    mailbox.save()
    return mailbox


# ---- Gmail ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingConsent:
    """A consent started by one admin in one workspace, kept in their session until Google sends them back."""

    state: str
    code_verifier: str
    schema: str
    user_id: int
    name: str
    mailbox_id: int | None = None

    def as_session(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_session(cls, data: Any) -> PendingConsent | None:
        try:
            return cls(**data) if isinstance(data, dict) else None
        except TypeError:
            return None


class ConsentRefused(Exception):
    """The callback does not belong to a consent this admin started here, or Google refused. `str()` for people."""


def gmail_consent_start(
    *, redirect_uri: str, user_id: int, name: str = "", mailbox: Mailbox | None = None
) -> tuple[str, PendingConsent]:
    """Google's consent URL and what the session keeps to check the callback (state, PKCE verifier, workspace)."""
    url, state, verifier = gmail.consent_start(redirect_uri)
    pending = PendingConsent(
        state=state,
        code_verifier=verifier,
        schema=connection.schema_name,
        user_id=user_id,
        name=name.strip(),
        mailbox_id=mailbox.pk if mailbox else None,
    )
    return url, pending


def gmail_consent_finish(
    *, pending: PendingConsent | None, params: dict[str, str], user_id: int, redirect_uri: str
) -> Mailbox:
    """Checks the callback against the pending consent, trades the code, stores the Gmail mailbox (encrypted)."""
    if (
        pending is None
        or pending.schema != connection.schema_name
        or pending.user_id != user_id
        or not secrets.compare_digest(str(params.get("state", "")), pending.state)
    ):
        raise ConsentRefused("This answer from Google does not match a connection you started here: start again.")
    if params.get("error"):
        raise ConsentRefused(f"Google did not grant access ({params['error'][:100]}): nothing was connected.")
    if not params.get("code"):
        raise ConsentRefused("Google sent no authorization code: start again.")
    try:
        refresh_token, address = gmail.consent_finish(
            redirect_uri=redirect_uri, state=pending.state, code_verifier=pending.code_verifier, code=params["code"]
        )
    except CloudMailError as error:
        raise ConsentRefused(str(error)) from None
    return _gmail_mailbox_store(pending=pending, address=address.strip().lower(), refresh_token=refresh_token)


@transaction.atomic
def _gmail_mailbox_store(*, pending: PendingConsent, address: str, refresh_token: str) -> Mailbox:
    if not address:
        raise ConsentRefused("Google did not say which address consented: start again.")
    mailbox = Mailbox.objects.select_for_update().filter(address=address).first()
    if mailbox is not None and mailbox.kind != Mailbox.Kind.GMAIL:
        raise ConsentRefused(f"{address} is already connected as a {mailbox.get_kind_display()} mailbox.")
    if pending.mailbox_id and (mailbox is None or mailbox.pk != pending.mailbox_id):
        raise ConsentRefused(f"You signed in as {address}, not as the mailbox you were reconnecting.")
    if mailbox is None:
        mailbox = Mailbox(kind=Mailbox.Kind.GMAIL, address=address, name=pending.name or address)
    # Imported mail is marked read, as IMAP mailboxes do, unless the admin chose otherwise (mailboxes connected
    # before the consent asked for gmail.modify have no choice stored, and leave mail as it is).
    mailbox.settings = {"after_import": "seen", **(mailbox.settings or {})}
    mailbox.secrets_set({**_secrets_or_none(mailbox), "refresh_token": refresh_token})
    mailbox.status = Mailbox.Status.CONNECTED
    mailbox.last_error = ""
    mailbox.consecutive_failures = 0
    mailbox.active = True
    mailbox.save()
    return mailbox


def _secrets_or_none(mailbox: Mailbox) -> dict[str, Any]:
    """What is stored, to keep beside a new secret; nothing when the server's keys no longer open it."""
    try:
        return mailbox.secrets()
    except DecryptionFailed:
        return {}


# ---- Settings → Channels: "Test connection" -------------------------------------------------------------------


def _connection_check(mailbox: Mailbox) -> str:
    result = cloud_mailbox_test(mailbox)
    if not result.ok:
        raise FetchError(result.message)
    return result.message


for _kind in CLOUD_KINDS:
    connection_check(_kind)(_connection_check)
