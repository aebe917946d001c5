"""Email delivery of everything the helpdesk hands over (the default for every channel without a deliverer of its
own): an OutboundEmail row and its send task are queued in one transaction, then a worker sends it and reports each
status change, with the server's answer, on the thread entry (helpdesk.facade.message_delivery_set).

A deferral (4xx, a server that cannot be reached) is retried with exponential backoff for a day; the beat sweep
(`outbound_email_retry_due`) queues every deferred row when its time comes, and any row whose task was lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.outbox import enqueue, enqueue_on_commit
from helpdesk import facade as helpdesk
from helpdesk.contracts import OutgoingMessage

from ..models import InboundEmail, Mailbox, OutboundEmail
from ..reply_address import bounce_address
from . import outbound_mime as mime
from . import transports
from .outbound import DEFAULT, deliverer

logger = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY_SECONDS = 60
LONGEST_WAIT_SECONDS = 3600
LOST_AFTER = timedelta(minutes=10)  # a queued row whose task never ran (broker lost it) is queued again


@deliverer(DEFAULT)
def email_deliver(message: OutgoingMessage) -> None:
    outbound_email_queue(message)


def outbound_email_queue(message: OutgoingMessage) -> OutboundEmail | None:
    """Turns a message for the customer into a queued email (None: nobody to send it to, or the ticket is gone)."""
    summary = helpdesk.ticket_summary(message.ticket_id)
    if summary is None:
        return None
    if message.to:
        to, cc = list(message.to), list(message.cc)
    else:
        to, cc = [summary.requester_email] if summary.requester_email else [], list(message.cc or summary.cc)
    to = [address for address in to if address]
    if not to:
        if message.message_id is not None:
            helpdesk.message_delivery_set(
                message_id=message.message_id, status="failed", detail="The requester has no email address."
            )
        return None
    return _create(message, mailbox=mailbox_for_ticket(message.ticket_id), to=to, cc=cc)


def outbound_email_queue_for_new_ticket(
    message: OutgoingMessage, *, mailbox: Mailbox | None, thread: list[str]
) -> OutboundEmail | None:
    """As `outbound_email_queue`, in the transaction that is opening the ticket (the inbox filing an email): the
    caller knows the ticket, the mailbox it came in by and its thread so far, so nothing is looked up."""
    to = [address for address in message.to if address]
    if not to:
        return outbound_email_queue(message)
    return _create(message, mailbox=mailbox, to=to, cc=list(message.cc), thread=thread)


@transaction.atomic
def _create(
    message: OutgoingMessage, *, mailbox: Mailbox | None, to: list[str], cc: list[str], thread: list[str] | None = None
) -> OutboundEmail:
    message_id = mime.message_id_make(mailbox)
    in_reply_to, references = mime.references_chain(
        thread if thread is not None else thread_message_ids(message.ticket_id)
    )
    outbound = OutboundEmail.objects.create(
        ticket_id=message.ticket_id,
        ticket_message_id=message.message_id,
        kind=message.kind,
        mailbox=mailbox,
        from_address=mime.from_header(mailbox, message.author_name),
        to=to,
        cc=cc,
        bcc=list(message.bcc),
        subject=mime.subject_with_token(message.subject, message.ticket_id)[:300],
        body=message.body,
        author_name=message.author_name[:150],
        attachments=[
            {"id": a.id, "filename": a.filename, "content_type": a.content_type, "content_id": a.content_id}
            for a in message.attachments
        ],
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
    )
    if message.message_id is not None:
        helpdesk.message_external_id_set(message_id=message.message_id, external_id=message_id)
        helpdesk.message_delivery_set(message_id=message.message_id, status=OutboundEmail.Status.QUEUED)
    from ..tasks.outbound import outbound_email_send_task  # the task module calls these services

    enqueue_on_commit(outbound_email_send_task, outbound.pk)
    return outbound


def mailbox_for_ticket(ticket_id: int) -> Mailbox | None:
    """The active mailbox the ticket's mail came in by (newest), else the default mailbox, else none (platform)."""
    inbound = (
        InboundEmail.objects.filter(ticket_id=ticket_id, mailbox__active=True)
        .select_related("mailbox")
        .order_by("-received", "-id")
        .first()
    )
    if inbound is not None:
        return inbound.mailbox
    return Mailbox.objects.filter(is_default=True, active=True).first()


def thread_message_ids(ticket_id: int) -> list[str]:
    """The Message-IDs of the ticket's mail so far, received and sent, oldest first."""
    received = InboundEmail.objects.filter(ticket_id=ticket_id).values_list("received", "message_id")
    sent = OutboundEmail.objects.filter(ticket_id=ticket_id).values_list("created", "message_id")
    return [message_id for _when, message_id in sorted([*received, *sent])]


def ticket_for_sent_message_ids(message_ids: list[str]) -> int | None:
    """The ticket one of these Message-IDs was sent about by us (an answer to an acknowledgement or a survey, which
    have no thread entry, threads by this), newest first."""
    ids = [value.strip() for value in message_ids if value and value.strip()]
    if not ids:
        return None
    sent = OutboundEmail.objects.filter(message_id__in=ids, ticket_id__isnull=False).order_by("-created", "-id")
    return sent.values_list("ticket_id", flat=True).first()


# --- Sending -----------------------------------------------------------------------------------------


def outbound_email_send(outbound_id: int) -> str | None:
    """One delivery attempt, if the email is due; returns its status then (None: not found, or another worker
    holds it). Safe to run twice: a sent or failed email is left alone."""
    with transaction.atomic():
        outbound = (
            OutboundEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("mailbox")
            .filter(pk=outbound_id)
            .first()
        )
        if outbound is None:
            return None
        now = timezone.now()
        due = outbound.next_attempt_at is None or outbound.next_attempt_at <= now
        if outbound.status not in (OutboundEmail.Status.QUEUED, OutboundEmail.Status.DEFERRED) or not due:
            return outbound.status
        outbound.attempts += 1
        try:
            raw = mime.outbound_email_render(outbound)
            # The envelope sender names this email (VERP), so its bounce is matched even without a Message-ID.
            sender = bounce_address(mime.sender_address(outbound.mailbox)[1], outbound.pk)
            answer = transports.send(outbound.mailbox, raw, sender, mime.envelope_recipients(outbound))
        except transports.TransientSendError as error:
            _deferred(outbound, str(error), now=now)
        except transports.PermanentSendError as error:
            _status_set(outbound, OutboundEmail.Status.FAILED, str(error))
        except (OSError, ValueError) as error:  # an attachment that cannot be read, a key dkimpy refuses…
            logger.exception("could not build email %s", outbound.pk)
            _status_set(outbound, OutboundEmail.Status.FAILED, f"The email could not be built: {error}")
        else:
            outbound.sent_at = now
            _status_set(outbound, OutboundEmail.Status.SENT, answer)
        return outbound.status


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8… minutes after each failed attempt, at most an hour."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_WAIT_SECONDS))


def _deferred(outbound: OutboundEmail, answer: str, *, now) -> None:
    if now - outbound.created >= GIVE_UP_AFTER:
        _status_set(outbound, OutboundEmail.Status.FAILED, f"{answer} (gave up after {outbound.attempts} attempts)")
        return
    outbound.next_attempt_at = now + retry_delay(outbound.attempts)
    _status_set(outbound, OutboundEmail.Status.DEFERRED, answer)


def _status_set(outbound: OutboundEmail, status: str, answer: str) -> None:
    outbound.status, outbound.answer, outbound.updated = status, answer[:2000], timezone.now()
    outbound.save()
    if outbound.ticket_message_id is not None:
        helpdesk.message_delivery_set(message_id=outbound.ticket_message_id, status=status, detail=answer)


def outbound_email_retry_due() -> int:
    """Queues a send for every deferred email whose retry is due, and every queued one whose task was lost."""
    now = timezone.now()
    due = OutboundEmail.objects.filter(
        Q(status=OutboundEmail.Status.DEFERRED, next_attempt_at__lte=now)
        # A send that keeps crashing (not failing: crashing) is not queued again for ever.
        | Q(status=OutboundEmail.Status.QUEUED, created__lte=now - LOST_AFTER, created__gte=now - GIVE_UP_AFTER)
    ).values_list("pk", flat=True)
    from ..tasks.outbound import outbound_email_send_task

    count = 0
    for outbound_id in due.iterator():
        enqueue(outbound_email_send_task, outbound_id)
        count += 1
    return count
