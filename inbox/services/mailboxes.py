"""Mailboxes: polling each active one and recording its health, the admin's changes from Settings → Channels, and
the "Test connection" and "Send a test message" round trip.

Polling is per kind: IMAP is registered here; other kinds register theirs with `@poller(kind)` and a connection
check with `@connection_check(kind)`. One poll of a mailbox runs at a time (a session-level advisory lock keyed by
workspace and mailbox), and every message is committed by `inbound_receive_many` before the server is told it was taken
and before the cursor moves, so a worker killed mid-batch loses and doubles nothing.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core.egress import EgressRefused, check_host_name
from core.outbox import enqueue_on_commit

from ..fetchers import FetchError, imap
from ..models import InboundEmail, Mailbox
from .inbound import Fetched, inbound_receive_many

logger = logging.getLogger(__name__)

Poller = Callable[[Mailbox], "PollResult"]
ConnectionCheck = Callable[[Mailbox], str]
POLLERS: dict[str, Poller] = {}
CONNECTION_CHECKS: dict[str, ConnectionCheck] = {}

# Polled by inbox.services.cloudmail (its own beat entry and back-off), not by POLLERS.
CLOUD_POLLED = (Mailbox.Kind.MICROSOFT365, Mailbox.Kind.GMAIL)
TEST_SUBJECT = "Switchboard test message"
TEST_TIMEOUT = timedelta(minutes=3)
TEST_REPOLL_SECONDS = 5  # while a test message is awaited, its status page asks for a poll at most this often
# Messages stored per transaction by a poll (and filed together by one task): fewer commits and task messages,
# while a chunk stays small enough that its first message is filed soon after it was fetched (each waits for the
# whole chunk's commit: about 5 × 20 ms; bench/README.md, inbound mail).
RECEIVE_CHUNK = 5
RECEIVE_CHUNK_BYTES = 2 * 1024 * 1024  # memory: a chunk holds less than this plus one message
UNEXPECTED = "Something unexpected went wrong while reading this mailbox; it will be retried. ({name})"


@dataclass
class PollResult:
    imported: int = 0  # new messages stored
    fetched: int = 0  # messages fetched, new or already known
    more: bool = False  # the batch limit stopped the poll before the end of the folder
    skipped: str = ""  # why nothing ran (another poll holds the lock, the mailbox is off…)
    error: str = ""


def poller(kind: str) -> Callable[[Poller], Poller]:
    def register(function: Poller) -> Poller:
        POLLERS[kind] = function
        return function

    return register


def connection_check(kind: str) -> Callable[[ConnectionCheck], ConnectionCheck]:
    def register(function: ConnectionCheck) -> ConnectionCheck:
        CONNECTION_CHECKS[kind] = function
        return function

    return register


# --- Polling -------------------------------------------------------------------------------------------------


def mailbox_poll(mailbox_id: int) -> PollResult:
    """Fetches what is new in one mailbox and records how it went. Never raises for a mailbox's own failure."""
    with _poll_lock(mailbox_id) as acquired:
        if not acquired:
            return PollResult(skipped="Another poll of this mailbox is running.")
        mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
        if mailbox is None or not mailbox.active or mailbox.kind not in POLLERS:
            return PollResult(skipped="The mailbox is gone, disabled, or not polled.")
        try:
            result = POLLERS[mailbox.kind](mailbox)
        except FetchError as error:
            return _failed(mailbox, str(error))
        except Exception as error:  # a bug or an odd server must not stop the other mailboxes' polls
            logger.exception("inbox: polling mailbox %s failed", mailbox.pk)
            return _failed(mailbox, UNEXPECTED.format(name=type(error).__name__))
        mailbox_status_record(mailbox, error="")
        return result


def _failed(mailbox: Mailbox, message: str) -> PollResult:
    mailbox_status_record(mailbox, error=message)
    return PollResult(error=message)


def mailbox_status_record(mailbox: Mailbox, *, error: str) -> None:
    """Connected (no error) or failing with `error`, counted; an update, so an admin's concurrent edit stays."""
    now = timezone.now()
    if error:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            status=Mailbox.Status.FAILING,
            last_error=error,
            last_checked_at=now,
            consecutive_failures=F("consecutive_failures") + 1,
        )
    else:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            status=Mailbox.Status.CONNECTED, last_error="", last_checked_at=now, consecutive_failures=0
        )
    with contextlib.suppress(Mailbox.DoesNotExist):  # deleted by an admin during the poll
        mailbox.refresh_from_db(fields=["status", "last_error", "last_checked_at", "consecutive_failures"])


@contextlib.contextmanager
def _poll_lock(mailbox_id: int) -> Iterator[bool]:
    """A session-level advisory lock: unlike a row lock it holds no transaction open, so each message commits."""
    digest = hashlib.sha256(f"inbox.mailbox-poll:{connection.schema_name}:{mailbox_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


@poller(Mailbox.Kind.IMAP)
def imap_poll(mailbox: Mailbox, *, limit: int | None = None) -> PollResult:
    """New messages of the folder, oldest first, in chunks: a chunk stored in one transaction, then each message
    marked or moved, then the cursor (a crash in between re-fetches the chunk; the Message-ID deduplicates it)."""
    config = imap.ImapConfig.from_settings(mailbox.settings, mailbox.secrets())
    limit = limit or django_settings.INBOX_IMAP_BATCH
    result = PollResult()
    test_token = _test_pending_token(mailbox)
    with imap.imap_session(config) as session:
        cursor = _imap_cursor(mailbox.cursor, uidvalidity=session.uidvalidity, folder=config.folder)
        uids = session.uids_after(cursor["last_uid"])
        batch = uids[:limit]
        sizes = session.sizes(batch)
        chunk: list[tuple[int, bool, Fetched | None]] = []  # (uid, fetched, what to store: None for a test message)
        held = 0
        for uid in batch:
            too_large = sizes.get(uid, 0) > django_settings.INBOX_MAX_MESSAGE_BYTES
            raw = session.fetch(uid, headers_only=too_large)  # a rejected message is recorded by its headers
            fetched = None
            if raw is not None:
                result.fetched += 1
                if test_token and _carries_test_token(raw, test_token):
                    _test_arrived(mailbox)
                else:
                    fetched = Fetched(raw, f"{cursor['uidvalidity']}:{uid}", sizes.get(uid))
                    held += len(raw)
            chunk.append((uid, raw is not None, fetched))
            if len(chunk) >= RECEIVE_CHUNK or held >= RECEIVE_CHUNK_BYTES:
                result.imported += _imap_store(mailbox, session, cursor, chunk)
                chunk, held = [], 0
        if chunk:
            result.imported += _imap_store(mailbox, session, cursor, chunk)
        result.more = len(uids) > limit
    mailbox.cursor = cursor
    return result


def _imap_store(
    mailbox: Mailbox, session: Any, cursor: dict[str, Any], chunk: list[tuple[int, bool, Fetched | None]]
) -> int:
    """Commits the chunk's messages, then tells the server they were taken, then moves the cursor past them."""
    stored = inbound_receive_many(
        [fetched for _uid, _seen, fetched in chunk if fetched is not None],
        source=InboundEmail.Source.IMAP,
        mailbox=mailbox,
    )
    for uid, seen, _fetched in chunk:
        if seen:
            session.after_import(uid)
    cursor["last_uid"] = chunk[-1][0]
    Mailbox.objects.filter(pk=mailbox.pk).update(cursor=cursor)
    return sum(created for _inbound, created in stored)


def _imap_cursor(saved: dict[str, Any], *, uidvalidity: int, folder: str) -> dict[str, Any]:
    """Where the last poll stopped; from the start when the folder changed or was rebuilt (new UIDVALIDITY):
    re-imported messages are deduplicated by Message-ID."""
    if saved.get("uidvalidity") == uidvalidity and saved.get("folder") == folder:
        return {"uidvalidity": uidvalidity, "folder": folder, "last_uid": int(saved.get("last_uid", 0))}
    return {"uidvalidity": uidvalidity, "folder": folder, "last_uid": 0}


@connection_check(Mailbox.Kind.IMAP)
def imap_connection_check(mailbox: Mailbox) -> str:
    return imap.imap_check(imap.ImapConfig.from_settings(mailbox.settings, mailbox.secrets()))


def mailbox_connection_test(mailbox: Mailbox) -> tuple[bool, str]:
    """The "Test connection" button: (worked, a sentence saying what happened). Records the mailbox's status."""
    check = CONNECTION_CHECKS.get(mailbox.kind)
    if check is None:
        return False, "This kind of mailbox has no connection to test."
    try:
        message = check(mailbox)
    except FetchError as error:
        mailbox_status_record(mailbox, error=str(error))
        return False, str(error)
    except Exception as error:
        logger.exception("inbox: testing mailbox %s failed", mailbox.pk)
        message = UNEXPECTED.format(name=type(error).__name__)
        mailbox_status_record(mailbox, error=message)
        return False, message
    mailbox_status_record(mailbox, error="")
    return True, message


# --- The test message round trip -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TestProgress:
    state: str  # "none", "waiting", "arrived", "timeout"
    token: str = ""
    sent_at: str = ""


def _test_key(mailbox: Mailbox) -> str:
    return f"inbox:mailbox-test:{mailbox.pk}"  # the cache's key function adds the workspace's schema


def mailbox_test_send(mailbox: Mailbox) -> str:
    """Sends a message with a unique token to the support address and polls for it; returns the token."""
    token = f"ST-{secrets.token_hex(6)}"
    cache.set(
        _test_key(mailbox),
        {"token": token, "sent_at": timezone.now().isoformat(), "received": False, "repolled": time.time()},
        int(TEST_TIMEOUT.total_seconds()) * 2,
    )
    send_mail(
        f"{TEST_SUBJECT} {token}",
        "Switchboard sent this message to check that mail to this address reaches your helpdesk. "
        "It is not filed as a ticket; you can delete it.",
        django_settings.DEFAULT_FROM_EMAIL,
        [mailbox.address],
    )
    _queue_poll(mailbox)
    return token


def mailbox_test_progress(mailbox: Mailbox) -> TestProgress:
    """Where the test message is; while it is awaited, asks for another poll now and then."""
    state = cache.get(_test_key(mailbox))
    if not state:
        return TestProgress("none")
    progress = TestProgress("waiting", state["token"], state["sent_at"])
    if state["received"]:
        return TestProgress("arrived", state["token"], state["sent_at"])
    sent = timezone.datetime.fromisoformat(state["sent_at"])
    if timezone.now() - sent > TEST_TIMEOUT:
        return TestProgress("timeout", state["token"], state["sent_at"])
    now = time.time()
    if mailbox.kind in (*POLLERS, *CLOUD_POLLED) and now - state.get("repolled", 0.0) >= TEST_REPOLL_SECONDS:
        cache.set(_test_key(mailbox), state | {"repolled": now}, int(TEST_TIMEOUT.total_seconds()) * 2)
        _queue_poll(mailbox)
    return progress


def mailbox_test_arrival(mailbox: Mailbox, raw: bytes) -> bool:
    """True (and recorded) when `raw` is the awaited test message: for receivers other than the pollers."""
    token = _test_pending_token(mailbox)
    if token and _carries_test_token(raw, token):
        _test_arrived(mailbox)
        return True
    return False


def _test_pending_token(mailbox: Mailbox) -> str:
    state = cache.get(_test_key(mailbox))
    return state["token"] if state and not state["received"] else ""


def _carries_test_token(raw: bytes, token: str) -> bool:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    subject = str(email.message_from_bytes(head, policy=email.policy.default).get("Subject", ""))
    return token in subject


def _test_arrived(mailbox: Mailbox) -> None:
    state = cache.get(_test_key(mailbox))
    if state:
        cache.set(_test_key(mailbox), state | {"received": True}, int(TEST_TIMEOUT.total_seconds()) * 2)


def _queue_poll(mailbox: Mailbox) -> None:
    # The task modules call these services. Microsoft 365 and Gmail have their own poll (inbox.services.cloudmail).
    from ..tasks.cloudmail import cloud_mailbox_poll_task
    from ..tasks.mailboxes import mailbox_poll_task

    if mailbox.kind in POLLERS:
        enqueue_on_commit(mailbox_poll_task, mailbox.pk)
    elif mailbox.kind in CLOUD_POLLED:
        enqueue_on_commit(cloud_mailbox_poll_task, mailbox.pk)


# --- Settings → Channels --------------------------------------------------------------------------------------

SECRET_KEEP = ""  # a secret field left empty keeps what is stored


@transaction.atomic
def mailbox_save(
    mailbox: Mailbox | None,
    *,
    kind: str,
    name: str,
    address: str,
    display_name: str = "",
    settings: dict[str, Any],
    secrets_given: dict[str, str],
) -> Mailbox:
    """Creates or edits a mailbox. Empty secrets keep the stored ones; a changed server resets its status."""
    _check_server(settings)
    mailbox = mailbox or Mailbox(kind=kind)
    if Mailbox.objects.filter(address__iexact=address).exclude(pk=mailbox.pk).exists():
        raise ValidationError({"address": "Another mailbox already receives mail for this address."})
    changed = mailbox.pk is None or mailbox.settings != settings or any(secrets_given.values())
    stored = mailbox.secrets()
    for key, value in secrets_given.items():
        if value != SECRET_KEEP:
            stored[key] = value
    mailbox.name, mailbox.address, mailbox.display_name = name, address.strip(), display_name
    mailbox.settings = settings
    mailbox.secrets_set(stored)
    if changed:
        mailbox.status, mailbox.last_error, mailbox.consecutive_failures = Mailbox.Status.NEW, "", 0
    if not Mailbox.objects.filter(is_default=True).exclude(pk=mailbox.pk).exists():
        mailbox.is_default = True  # the first mailbox sends the replies
    try:
        with transaction.atomic():
            mailbox.save()
    except IntegrityError as error:  # the same address saved a moment ago by someone else
        raise ValidationError({"address": "Another mailbox already receives mail for this address."}) from error
    return mailbox


def _check_server(settings: dict[str, Any]) -> None:
    host = settings.get("host")
    if not host:
        return
    try:
        check_host_name(host)
    except EgressRefused as error:
        raise ValidationError({"host": str(error)}) from error


@transaction.atomic
def mailbox_default_set(mailbox: Mailbox) -> None:
    Mailbox.objects.filter(is_default=True).exclude(pk=mailbox.pk).update(is_default=False)
    Mailbox.objects.filter(pk=mailbox.pk).update(is_default=True)
    mailbox.is_default = True


def mailbox_active_set(mailbox: Mailbox, *, active: bool) -> None:
    mailbox.active = active
    mailbox.save(update_fields=["active"])


@transaction.atomic
def mailbox_delete(mailbox: Mailbox) -> None:
    """Deletes the mailbox; the mail it received stays (its records lose the link). Another becomes default."""
    was_default = mailbox.is_default
    mailbox.delete()
    if was_default:
        successor = Mailbox.objects.filter(active=True).order_by("name", "id").first()
        if successor is not None:
            mailbox_default_set(successor)
