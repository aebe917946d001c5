"""Filing a stored message: parse the MIME, recognise delivery reports, loops and auto-replies, thread it onto
its ticket (signed reply address, then In-Reply-To/References, then a `[#123]` subject token) or open a new one.

Called by `inbound.inbound_process` inside a savepoint: anything raised here leaves the record FAILED with the
reason, the raw .eml kept, and nothing half-filed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from helpdesk import facade as helpdesk
from helpdesk.contracts import InboundAttachment, OutgoingMessage, ReceivedMessage

from ..mail.autoreply import auto_reply_reason, mailing_list
from ..mail.dsn import SMTP_REPLY, DeliveryReport, delivery_report
from ..mail.parse import ParsedMail, mail_parse_file
from ..mail.quotes import html_to_text, visible_text
from ..models import InboundEmail, Mailbox
from ..models.mail import message_id_key
from ..reply_address import outbound_from_bounce_address, ticket_from_address
from ..selectors.mailboxes import mailboxes_known
from .bounces import bounce_record, bounce_record_for_outbound
from .outbound import outgoing_route
from .outbound_email import outbound_email_queue_for_new_ticket

logger = logging.getLogger(__name__)

SUBJECT_TOKEN = re.compile(r"\[#(\d{1,12})\]")
MAX_SUBJECT = 200
MAX_BODY = 49_000  # under the helpdesk's 50,000, leaving room for the notes added below
SIGNATURE_TYPES = ("application/pkcs7-signature", "application/x-pkcs7-signature")


class Unfileable(Exception):
    """The message cannot become a ticket entry; the text is the reason shown to admins."""


@dataclass(frozen=True)
class Threading:
    ticket_id: int | None
    how: str = ""


def inbound_file(inbound: InboundEmail) -> None:
    # Read line by line: big parts go to temporary files, never all in memory (inbox.mail.stream); the files are
    # stored from those (the workspace's storage copies them in chunks) and removed once filing is done.
    with inbound.raw.open("rb") as stored:
        mail, spooled_close = mail_parse_file(stored)
    try:
        _parsed_file(inbound, mail)
    finally:
        spooled_close()


def _parsed_file(inbound: InboundEmail, mail: ParsedMail) -> None:
    inbound.sender = mail.from_address[:320]
    inbound.subject = mail.subject[:300]
    if _bounce_filed(inbound, mail):
        return
    own = own_addresses()
    loop = loop_reason(mail, own)
    if loop:
        inbound.status, inbound.reason = InboundEmail.Status.IGNORED, loop
        return
    if not mail.from_address:
        raise Unfileable("The message has no sender address (From, Sender and Reply-To are missing or broken).")
    _file_on_ticket(inbound, mail, own)


def _bounce_filed(inbound: InboundEmail, mail: ParsedMail) -> bool:
    report = delivery_report(mail.message, subject=mail.subject, sender=mail.from_address)
    if _verp_bounce_filed(inbound, mail, report):
        return True
    if report is None:
        return False
    matched = bool(report.original_message_id) and bounce_record(
        original_message_id=report.original_message_id, diagnostic=report.diagnostic, permanent=report.permanent
    )
    if not matched and report.original_message_id.strip("<>") != report.original_message_id:
        # Whoever recorded our Message-ID may have kept it without its angle brackets.
        matched = bounce_record(
            original_message_id=report.original_message_id.strip("<>"),
            diagnostic=report.diagnostic,
            permanent=report.permanent,
        )
    kind = "failed" if report.permanent else "delayed"
    about = f"message {report.original_message_id}" if report.original_message_id else "an unnamed message"
    inbound.status = InboundEmail.Status.BOUNCE
    inbound.reason = f"Delivery {kind} for {about}: {report.diagnostic}"
    if not matched:
        inbound.reason += " (no message sent from here has that id)"
    return True


def _verp_bounce_filed(inbound: InboundEmail, mail: ParsedMail, report: DeliveryReport | None) -> bool:
    """Mail to one of our bounce addresses (reply_address.bounce_address) is a report on the email it names,
    whatever its body says; nobody writes to such an address by hand."""
    outbound_id = next(
        (found for address in [*mail.delivered_to, *mail.to] if (found := outbound_from_bounce_address(address))),
        None,
    )
    if outbound_id is None:
        return False
    diagnostic = report.diagnostic if report else _notice_diagnostic(mail.text)
    permanent = report.permanent if report else True
    message_id = bounce_record_for_outbound(outbound_id=outbound_id, diagnostic=diagnostic, permanent=permanent)
    kind = "failed" if permanent else "delayed"
    inbound.status = InboundEmail.Status.BOUNCE
    inbound.reason = f"Delivery {kind} for message {message_id or '(unknown)'}: {diagnostic}"
    if message_id is None:
        inbound.reason += " (no message sent from here has that bounce address)"
    return True


def _notice_diagnostic(text: str) -> str:
    """A gateway's own notice (no report part): its SMTP reply line, else its first line."""
    found = SMTP_REPLY.search(text)
    if found:
        return found.group(1).strip()[:500]
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:500] or "The receiving server returned the message."


def own_addresses() -> set[str]:
    return {mailbox.address.lower() for mailbox in mailboxes_known()}


def _base_address(address: str) -> str:
    local, _, domain = address.lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def loop_reason(mail: ParsedMail, own: set[str]) -> str:
    """Why this is our own mail coming back ("" when it is not)."""
    if mail.from_address and _base_address(mail.from_address) in own:
        return f"Loop: sent from our own address {mail.from_address}."
    # A message this helpdesk holds under that id (with or without brackets, as it was recorded): we sent it.
    # (One received under it would have been stopped by the Message-ID deduplication before parsing.)
    if mail.message_id and helpdesk.ticket_for_external_ids([mail.message_id, mail.message_id.strip("<>")]):
        return f"Loop: {mail.message_id} is a message sent from here."
    return ""


def _file_on_ticket(inbound: InboundEmail, mail: ParsedMail, own: set[str]) -> None:
    automatic = auto_reply_reason(mail.headers, mail.subject)
    listed = mailing_list(mail.headers)
    attachments, refused = helpdesk.attachments_screen(_attachments(mail))
    body = message_body(mail, refused)
    threading = thread_find(mail, inbound)
    received = None
    if threading.ticket_id is not None:
        received = _message_add(threading.ticket_id, mail, body, attachments, inbound)
    if received is None:
        cc = [address for address in mail.cc if _base_address(address) not in own and address != mail.from_address]
        with helpdesk.outgoing_collected() as acknowledgements:
            received, _ = helpdesk.ticket_open(
                subject=(mail.subject or "(no subject)")[:MAX_SUBJECT],
                body=body,
                sender_email=mail.from_address,
                sender_name=mail.from_name[:200],
                channel="email",
                attachments=attachments,
                cc=cc,
                external_id=inbound.message_id[:255],
                auto_reply=bool(automatic or listed),
            )
        _acknowledge(acknowledgements, inbound)
    inbound.ticket_id = received.ticket_id
    inbound.ticket_message_id = received.message_id
    inbound.created_ticket = received.created_ticket
    inbound.status = InboundEmail.Status.IMPORTED
    notes = []
    if automatic:
        notes.append(f"Auto-reply ({automatic}): filed, not acknowledged.")
    if listed:
        notes.append(f"Mailing list ({listed}): filed, not acknowledged.")
    if threading.ticket_id is not None and received.ticket_id != threading.ticket_id:
        notes.append(f"Ticket #{threading.ticket_id} ({threading.how}) is closed or gone: a new ticket was opened.")
    notes.extend(f"File not kept: {reason}" for reason in refused)
    inbound.reason = "\n".join(notes)


def _acknowledge(messages: list[OutgoingMessage], inbound: InboundEmail) -> None:
    """Queues the new ticket's acknowledgement with the ticket, in this transaction: from the mailbox the mail came
    in by, answering it. (Handed over after the commit, it cost a transaction and four lookups of its own.)"""
    for message in messages:
        try:
            if message.channel == "email":
                outbound_email_queue_for_new_ticket(
                    message, mailbox=_reply_mailbox(inbound.mailbox_id), thread=[inbound.message_id]
                )
            else:
                outgoing_route(message)
        except Exception:  # as after the commit: a delivery that fails never costs the customer their ticket
            logger.exception("the acknowledgement of ticket #%s could not be queued", message.ticket_id)


def _reply_mailbox(mailbox_id: int | None) -> Mailbox | None:
    """The active mailbox the mail came in by, else the default one (outbound_email.mailbox_for_ticket's choice)."""
    mailboxes = [mailbox for mailbox in mailboxes_known() if mailbox.active]
    by_id = {mailbox.pk: mailbox for mailbox in mailboxes}
    return by_id.get(mailbox_id) or next((mailbox for mailbox in mailboxes if mailbox.is_default), None)


def _message_add(
    ticket_id: int, mail: ParsedMail, body: str, attachments: list[InboundAttachment], inbound: InboundEmail
) -> ReceivedMessage | None:
    try:
        received, _ = helpdesk.message_receive(
            ticket_id=ticket_id,
            body=body,
            sender_email=mail.from_address,
            sender_name=mail.from_name[:200],
            channel="email",
            attachments=attachments,
            external_id=inbound.message_id[:255],
        )
    except ValidationError:  # closed or deleted: the customer's mail opens a new ticket instead
        return None
    return received


def thread_find(mail: ParsedMail, inbound: InboundEmail) -> Threading:
    """The ticket this message answers, by the strongest evidence first."""
    for address in [*mail.to, *mail.cc, *mail.delivered_to]:
        ticket_id = ticket_from_address(address)
        if ticket_id is not None:
            return Threading(ticket_id, "reply address")
    ids = [*mail.in_reply_to, *reversed(mail.references)]
    if ids:
        earlier = (
            InboundEmail.objects.filter(message_key__in=[message_id_key(value) for value in ids])
            .exclude(pk=inbound.pk)
            .exclude(ticket_id=None)
            .order_by("-received", "-id")
            .values_list("ticket_id", flat=True)
            .first()
        )
        if earlier is not None:
            return Threading(earlier, "In-Reply-To/References")
        ticket_id = helpdesk.ticket_for_external_ids([*ids, *(value.strip("<>") for value in ids)])
        if ticket_id is not None:
            return Threading(ticket_id, "In-Reply-To/References")
    for match in SUBJECT_TOKEN.finditer(mail.subject):
        summary = helpdesk.ticket_summary(int(match.group(1)))
        # A number in a subject is guessable: only the ticket's own people may file onto it this way.
        if summary is not None and mail.from_address in {summary.requester_email.lower(), *summary.cc}:
            return Threading(summary.id, "subject [#number]")
    return Threading(None)


def message_body(mail: ParsedMail, refused: list[str]) -> str:
    """What the sender wrote (quotes and signature cut; HTML-only mail as text), with a note per held-back file."""
    text = visible_text(mail.text) if mail.text.strip() else ""
    if not text and mail.html.strip():
        text = visible_text(html_to_text(mail.html))
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY].rstrip() + "\n\n[The message was shortened here; the original .eml has it all.]"
    if not text:
        text = "(no text; see the attachments)" if mail.files else "(empty message)"
    notes = [reason for reason in refused if not reason.lower().startswith(("smime.p7s", "smime.p7m"))]
    if notes:
        text += "\n\n" + "\n".join(f"[File not kept: {reason}]" for reason in notes)
    return text


def _attachments(mail: ParsedMail) -> list[InboundAttachment]:
    return [
        InboundAttachment(
            filename=file.filename, content_type=file.content_type, content=file.content, content_id=file.content_id
        )
        for file in mail.files
        if file.content
    ]
