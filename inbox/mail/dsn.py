"""Delivery reports: RFC 3464 DSNs (multipart/report; report-type=delivery-status, as Postfix and Exchange send
them) and the common non-standard bounces (a notice with the returned message attached). They say which of our
messages failed and why; they never become tickets."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message

from .charsets import decode_bytes, decode_header
from .parse import MESSAGE_ID, part_bytes

_BOUNCE_SUBJECT = re.compile(
    r"^\s*(Undelivered Mail Returned to Sender|Delivery Status Notification|Undeliverable|Undelivered"
    r"|Mail delivery failed|Returned mail|Delivery failure|Delivery has failed|failure notice|Mail System Error"
    r"|Non[- ]?remis|Unzustellbar|Nondeliverable)\b",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|microsoftexchange[0-9a-f]*)@", re.IGNORECASE)
_FIELD = re.compile(r"^(Action|Status|Diagnostic-Code|Final-Recipient|Original-Recipient)\s*:\s*(.*)$", re.IGNORECASE)
SMTP_REPLY = re.compile(r"\b([245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b.*|[45]\.\d{1,3}\.\d{1,3}\b.*)")
_DELAYED = re.compile(r"\b(delayed|will (be )?retr(y|ied)|still trying|not yet been delivered)\b", re.IGNORECASE)


@dataclass(frozen=True)
class DeliveryReport:
    original_message_id: str
    diagnostic: str
    permanent: bool
    recipient: str = ""


def delivery_report(message: Message, *, subject: str = "", sender: str = "") -> DeliveryReport | None:
    """The delivery report this message is, or None when it is not one."""
    content_type = message.get_content_type()
    standard = content_type == "multipart/report" and (
        str(message.get_param("report-type") or "").lower() == "delivery-status"
    )
    if not standard and not _BOUNCE_SUBJECT.match(subject) and not _DAEMON.match(sender):
        return None
    fields, original, notice = _parts(message)
    if not standard and not fields and not original:
        return None  # "Undeliverable" in a person's subject, with nothing returned: a message like any other
    diagnostic = fields.get("diagnostic-code", "") or ""
    status = fields.get("status", "")
    if not diagnostic:
        found = SMTP_REPLY.search(notice)
        diagnostic = found.group(1).strip() if found else ""
    detail = " ".join(part for part in (status, diagnostic) if part and part not in diagnostic) or diagnostic
    action = fields.get("action", "").lower()
    permanent = action == "failed" if action else not (_DELAYED.search(notice) or status.startswith("4"))
    return DeliveryReport(
        original_message_id=original,
        diagnostic=(detail or _first_line(notice) or "The receiving server refused the message.")[:500],
        permanent=permanent,
        recipient=re.sub(r"^rfc822;\s*", "", fields.get("final-recipient", ""), flags=re.IGNORECASE)[:320],
    )


def _parts(message: Message) -> tuple[dict[str, str], str, str]:
    """(the first recipient's DSN fields, the returned message's Message-ID, the human-readable notice)."""
    fields: dict[str, str] = {}
    original = ""
    notice = ""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            fields = fields or _status_fields(_status_text(part))
        elif content_type in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            original = original or _returned_id(part)
        elif content_type == "text/plain" and not notice and not part.get_filename():
            notice = decode_bytes(part_bytes(part), part.get_content_charset())
    if not original:  # some gateways paste the returned headers into the notice itself
        match = re.search(r"^Message-ID:\s*(<[^<>\s]+>)", notice, re.IGNORECASE | re.MULTILINE)
        original = match.group(1) if match else ""
    return fields, original, notice


def _status_text(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):  # the parser read each per-recipient block as a header-only message
        return "\n\n".join("\n".join(f"{name}: {value}" for name, value in block.raw_items()) for block in payload)
    return decode_bytes(part_bytes(part))


def _status_fields(text: str) -> dict[str, str]:
    """The per-message block first, then the first per-recipient block (the one that carries Action/Status)."""
    fields: dict[str, str] = {}
    name = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if line[:1] in (" ", "\t") and name:
            fields[name] += " " + line.strip()
            continue
        match = _FIELD.match(line)
        name = match.group(1).lower() if match else None
        if match and name not in fields:
            fields[name] = match.group(2).strip()
        elif match:
            name = None  # a later recipient's field: the first one is reported
    fields = {key: decode_header(value) for key, value in fields.items()}
    if "diagnostic-code" in fields:
        fields["diagnostic-code"] = re.sub(r"^smtp;\s*", "", fields["diagnostic-code"], flags=re.IGNORECASE)
    return fields


def _returned_id(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        returned = payload[0]
    else:
        returned = email.message_from_bytes(part_bytes(part), policy=email.policy.compat32)
    value = " ".join(str(value) for name, value in returned.raw_items() if name.lower() == "message-id")
    match = MESSAGE_ID.search(value)
    return match.group(0) if match else ""


def _first_line(text: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return line.strip()[:300]
    return ""
