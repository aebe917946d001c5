"""The bytes of an email we send: a text part and an HTML part (Markdown rendered by core.markdown), inline images
and attachments, threading headers, the per-ticket Reply-To (a business email's own Reply-To, when it has no
ticket), and a DKIM signature when the mailbox has a key."""

from __future__ import annotations

import email.policy
import html
import logging
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, make_msgid, parseaddr

import dkim
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.html import linebreaks, urlize

from core.emails import workspace_name
from core.markdown import markdown_to_html
from helpdesk import facade as helpdesk

from ..models import Mailbox, OutboundEmail
from ..reply_address import reply_address

logger = logging.getLogger(__name__)

AUTOMATIC_KINDS = {OutboundEmail.Kind.ACKNOWLEDGEMENT, OutboundEmail.Kind.CSAT, OutboundEmail.Kind.AUTO_RESPONSE}
MARKDOWN_KINDS = {OutboundEmail.Kind.REPLY, OutboundEmail.Kind.AUTO_RESPONSE}
DKIM_HEADERS = [b"From", b"To", b"Cc", b"Subject", b"Date", b"Message-ID", b"In-Reply-To", b"References", b"Reply-To"]
REFERENCES_KEPT = 20  # the first id (the thread's root) and the newest ones: long threads stay under header limits
HTML_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
    '<body style="font-family: Arial, Helvetica, sans-serif; font-size: 14px; line-height: 1.5; color: #1f2328;">'
    "{body}</body></html>"
)


def sender_address(mailbox: Mailbox | None) -> tuple[str, str]:
    """(display name, address) mail goes out as: the mailbox's, or the platform's DEFAULT_FROM_EMAIL."""
    if mailbox is not None:
        return mailbox.display_name or workspace_name(), mailbox.address
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return workspace_name(), address


def from_header(mailbox: Mailbox | None, author_name: str) -> str:
    display, address = sender_address(mailbox)
    return formataddr((f"{author_name} via {display}" if author_name else display, address))


def message_id_make(mailbox: Mailbox | None) -> str:
    _display, address = sender_address(mailbox)
    return make_msgid(idstring="sb", domain=address.rpartition("@")[2] or "switchboard.invalid")


def subject_with_token(subject: str, ticket_id: int) -> str:
    token = f"[#{ticket_id}]"
    subject = " ".join(subject.split())
    return subject if token in subject else f"{token} {subject}"


def references_chain(earlier: list[str]) -> tuple[str, str]:
    """(In-Reply-To, References) for a thread whose earlier Message-IDs are `earlier`, oldest first."""
    ids = list(dict.fromkeys(value.strip() for value in earlier if value and value.strip()))
    if not ids:
        return "", ""
    kept = ids if len(ids) <= REFERENCES_KEPT else [ids[0], *ids[-(REFERENCES_KEPT - 1) :]]
    return ids[-1], " ".join(kept)


def envelope_recipients(outbound: OutboundEmail) -> list[str]:
    seen: dict[str, str] = {}
    for _name, address in getaddresses([*outbound.to, *outbound.cc, *outbound.bcc]):
        if address and address.lower() not in seen:
            seen[address.lower()] = address
    return list(seen.values())


def outbound_email_render(outbound: OutboundEmail) -> bytes:
    """The finished message, CRLF line ends, signed when the mailbox has a DKIM key."""
    message = EmailMessage(policy=email.policy.SMTP)
    _headers(message, outbound)
    message.set_content(_text(outbound), charset="utf-8")
    message.add_alternative(HTML_PAGE.format(body=_html(outbound)), subtype="html", charset="utf-8")
    _attach(message, outbound)
    raw = message.as_bytes(policy=email.policy.SMTP)
    return _dkim_signed(raw, outbound.mailbox)


def _headers(message: EmailMessage, outbound: OutboundEmail) -> None:
    _display, address = sender_address(outbound.mailbox)
    message["From"] = outbound.from_address
    message["To"] = ", ".join(outbound.to)
    if outbound.cc:
        message["Cc"] = ", ".join(outbound.cc)
    if outbound.ticket_id is not None:
        message["Reply-To"] = str(Address(addr_spec=reply_address(address, outbound.ticket_id)))
    elif outbound.reply_to:
        message["Reply-To"] = outbound.reply_to
    message["Subject"] = outbound.subject
    message["Date"] = format_datetime(outbound.created)
    message["Message-ID"] = outbound.message_id
    if outbound.in_reply_to:
        message["In-Reply-To"] = outbound.in_reply_to
        message["References"] = outbound.references
    if outbound.kind in AUTOMATIC_KINDS:
        # RFC 3834: no auto-reply to this; Exchange's own switch for out-of-office answers.
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"


def _text(outbound: OutboundEmail) -> str:
    # Markdown reads well as plain text (which is its point); links keep their URLs.
    return outbound.body.strip() + "\n"


def _html(outbound: OutboundEmail) -> str:
    if outbound.kind in MARKDOWN_KINDS:
        return markdown_to_html(outbound.body)
    return linebreaks(urlize(html.escape(outbound.body.strip()), autoescape=False))


def _attach(message: EmailMessage, outbound: OutboundEmail) -> None:
    html_part = message.get_payload()[1]
    for attachment in outbound.attachments:
        content = _attachment_bytes(attachment)
        maintype, _, subtype = (attachment.get("content_type") or "application/octet-stream").partition("/")
        filename = attachment.get("filename") or "attachment"
        content_id = (attachment.get("content_id") or "").strip("<>")
        if content_id and maintype == "image":
            cid = f"<{content_id}>"
            html_part.add_related(content, maintype, subtype, cid=cid, filename=filename, disposition="inline")
        else:
            message.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)


def _attachment_bytes(attachment: dict) -> bytes:
    if "path" in attachment:  # a business email's own file, in this workspace's storage (services.business_email)
        with default_storage.open(attachment["path"], "rb") as handle:
            return handle.read()
    with helpdesk.attachment_open(attachment["id"]) as handle:
        return handle.read()


def _dkim_signed(raw: bytes, mailbox: Mailbox | None) -> bytes:
    if mailbox is None or not mailbox.settings.get("dkim_selector"):
        return raw
    key = str(mailbox.secrets().get("dkim_private_key") or "")
    if not key:
        return raw
    domain = str(mailbox.settings.get("dkim_domain") or mailbox.address.rpartition("@")[2])
    signature = dkim.sign(
        raw,
        selector=str(mailbox.settings["dkim_selector"]).encode(),
        domain=domain.encode(),
        privkey=key.encode(),
        include_headers=[name for name in DKIM_HEADERS if _has_header(raw, name)],
    )
    return signature + raw


def _has_header(raw: bytes, name: bytes) -> bool:
    head = raw.split(b"\r\n\r\n", 1)[0].lower()
    return head.startswith(name.lower() + b":") or b"\r\n" + name.lower() + b":" in head
