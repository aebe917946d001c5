"""SMS through Twilio: the workspace's numbers, texts received (filed on the sender's ticket), STOP/START opt-outs,
agents' replies sent by text, and Twilio's delivery reports.

A received text is stored (unique by MessageSid) and committed before anything else happens, then filed by a
Celery task, so the webhook answers Twilio at once and a retried webhook is a no-op. A reply is sent by a task as
well (`sms_send`), retried on Twilio's 429 and 5xx answers; each step shows on the message in the thread
(helpdesk.facade.message_delivery_set).
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Mapping
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException

from core.egress import EgressRefused, refusal_in
from core.links import workspace_url
from core.outbox import enqueue_on_commit
from customers import facade as customers
from helpdesk import facade as helpdesk
from helpdesk.contracts import InboundAttachment, OutgoingMessage

from ..models import SmsMessage, SmsNumber, SmsOptOut
from . import sms_twilio
from .outbound import deliverer

logger = logging.getLogger(__name__)

OPTED_OUT = "opted_out"  # SmsMessage.status of a reply not sent because the customer texted STOP
STOP_REASON = "The customer replied STOP to {phone}: texts to them are blocked until they reply START."
SUBJECT_CHARACTERS = 60
# Twilio's message statuses, in the order they happen; a late report never moves a message backwards.
STATUS_RANK = {
    "accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
    "delivered": 4, "read": 5, "undelivered": 4, "failed": 4, "canceled": 4,
}  # fmt: skip
HELPDESK_STATUS = {
    "accepted": "queued", "scheduled": "queued", "queued": "queued", "sending": "queued", "sent": "sent",
    "delivered": "delivered", "read": "delivered", "undelivered": "failed", "failed": "failed", "canceled": "failed",
}  # fmt: skip


FAILED_STATUSES = frozenset({"failed", "undelivered", "canceled", OPTED_OUT})


class SmsRetryable(Exception):
    """Twilio could not take the message now (429, 5xx, no connection): try again later."""


# --- Numbers ---------------------------------------------------------------------------------------------


def _clean_number_values(values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = {key: value.strip() if isinstance(value, str) else value for key, value in values.items()}
    errors: dict[str, str] = {}
    phone = cleaned.get("phone_number")
    if phone is not None:
        phone = phone.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
        cleaned["phone_number"] = phone
        if not sms_twilio.E164.match(phone):
            errors["phone_number"] = (
                "Write the number in E.164 form: + then country code and number, e.g. +14155550100."
            )
    sid = cleaned.get("account_sid")
    if sid is not None and not (sid.startswith("AC") and len(sid) == 34):
        errors["account_sid"] = "An Account SID starts with AC and is 34 characters long."
    service = cleaned.get("messaging_service_sid")
    if service and not (service.startswith("MG") and len(service) == 34):
        errors["messaging_service_sid"] = "A Messaging Service SID starts with MG and is 34 characters long."
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def sms_number_create(*, phone_number: str, account_sid: str, auth_token: str, messaging_service_sid: str = "",
                      enabled: bool = True) -> SmsNumber:  # fmt: skip
    values = _clean_number_values(
        {"phone_number": phone_number, "account_sid": account_sid, "messaging_service_sid": messaging_service_sid}
    )
    if not auth_token.strip():
        raise ValidationError({"auth_token": "Paste the auth token of this Twilio account."})
    if SmsNumber.objects.filter(phone_number=values["phone_number"]).exists():
        raise ValidationError({"phone_number": f"{values['phone_number']} is already connected."})
    number = SmsNumber(enabled=enabled, **values)
    number.auth_token_set(auth_token.strip())
    number.save()
    return number


@transaction.atomic
def sms_number_update(*, number: SmsNumber, data: Mapping[str, Any]) -> SmsNumber:
    """Changes the number's settings; an empty `auth_token` keeps the saved one (it is never shown again)."""
    data = dict(data)
    token = (data.pop("auth_token", "") or "").strip()
    values = _clean_number_values({key: data[key] for key in ("account_sid", "messaging_service_sid") if key in data})
    for key, value in values.items():
        setattr(number, key, value)
    if "enabled" in data:
        number.enabled = bool(data["enabled"])
    if token:
        number.auth_token_set(token)
    if token or "account_sid" in values:
        number.last_check_ok, number.last_checked_at, number.last_check_detail = None, None, ""
    number.save()
    return number


def sms_number_delete(*, number: SmsNumber) -> None:
    number.delete()  # its messages stay (number set to null): the tickets still show what was sent


def sms_number_test(*, number: SmsNumber) -> tuple[bool, str]:
    """Fetches the Twilio account with the saved credentials; records and returns (ok, what happened)."""
    try:
        account = (
            sms_twilio.twilio_client(number.account_sid, number.auth_token())
            .api.v2010.accounts(number.account_sid)
            .fetch()
        )
    except TwilioRestException as error:
        ok, detail = False, _rest_error_text(error)
        if error.status == 401:
            detail = "Twilio refused the Account SID and auth token (401). Copy both again from the Twilio console."
    except (TwilioException, requests.RequestException, EgressRefused) as error:
        ok, detail = False, _connection_error_text(error)
    else:
        status = getattr(account, "status", "") or ""
        ok = status in {"", "active"}
        name = getattr(account, "friendly_name", "") or number.account_sid
        detail = f"Connected to “{name}”." if ok else f"The account “{name}” is {status}."
    number.last_checked_at, number.last_check_ok, number.last_check_detail = timezone.now(), ok, detail[:300]
    number.save(update_fields=["last_checked_at", "last_check_ok", "last_check_detail"])
    return ok, detail


def sms_webhook_urls() -> dict[str, str]:
    """What to paste into Twilio's console for each number (the status callback also goes with every reply)."""
    return {
        "inbound": workspace_url(reverse("sms:inbound")),
        "status": workspace_url(reverse("sms:status")),
    }


# --- Receiving ---------------------------------------------------------------------------------------------


def sms_receive(*, number: SmsNumber, params: Mapping[str, Any]) -> tuple[SmsMessage, bool]:
    """Stores a text Twilio posted (already verified) and queues its filing. Returns (record, created); created is
    False for a MessageSid seen before, concurrent duplicates included (the unique constraint decides)."""
    sid = str(params.get("MessageSid") or params.get("SmsSid") or "").strip()
    if not sid:
        raise ValidationError({"MessageSid": "Twilio's MessageSid is missing."})
    existing = _received_before(sid)
    if existing is not None:
        return existing, False
    message = SmsMessage(
        number=number,
        direction=SmsMessage.Direction.INBOUND,
        message_sid=sid[:64],
        from_number=str(params.get("From") or "")[:32],
        to_number=str(params.get("To") or number.phone_number)[:32],
        body=str(params.get("Body") or ""),
        media=sms_twilio.media_items(params),
        status="received",
        error_message="",
    )
    opt_out_type = str(params.get("OptOutType") or "")
    try:
        with transaction.atomic():
            message.save(force_insert=True)
            from ..tasks.sms import sms_inbound_process_task  # the task module calls these services

            enqueue_on_commit(sms_inbound_process_task, message.pk, opt_out_type)
    except IntegrityError:  # the same webhook, delivered twice at once: the other request stored it
        return SmsMessage.objects.get(message_sid=sid), False
    return message, True


def _received_before(sid: str) -> SmsMessage | None:
    return SmsMessage.objects.filter(message_sid=sid).first()


def sms_inbound_process(message_id: int, opt_out_type: str = "") -> SmsMessage | None:
    """Files a stored text: STOP/START change the opt-out; anything else lands on the sender's SMS ticket (a new one
    when they have none open). Safe to run twice: a filed text is left alone."""
    with transaction.atomic():
        message = (
            SmsMessage.objects.select_for_update(of=("self",)).select_related("number").filter(pk=message_id).first()
        )
        if message is None or message.status != "received":
            return message
        keyword = sms_twilio.keyword_of(message.body, opt_out_type)
        if keyword:
            _opt_out_record(message.from_number, keyword=message.body.strip().upper()[:16], stop=keyword == "stop")
        _file(message, open_ticket=not keyword)
        message.status = "filed"
        message.save()
    return message


def _opt_out_record(phone: str, *, keyword: str, stop: bool) -> None:
    now = timezone.now()
    if stop:
        SmsOptOut.objects.update_or_create(
            phone_number=phone, defaults={"opted_out_at": now, "opted_in_at": None, "keyword": keyword}
        )
    else:
        SmsOptOut.objects.filter(phone_number=phone, opted_in_at__isnull=True).update(opted_in_at=now)


def opted_out(phone: str) -> bool:
    return SmsOptOut.objects.filter(phone_number=phone, opted_in_at__isnull=True).exists()


def _file(message: SmsMessage, *, open_ticket: bool) -> None:
    """Adds the text to the conversation's ticket, or opens one (`open_ticket`: not for a bare STOP or START)."""
    attachments, problems = _attachments(message)
    body = message.body.strip() or ("(picture message)" if message.media else "(empty message)")
    if problems:
        body += "\n\n" + "\n".join(problems)
    contact = customers.contact_for_phone(phone=message.from_number)
    ticket_id = _conversation_ticket(message.from_number, message.to_number)
    if ticket_id is not None and not open_ticket:
        # STOP or START is shown on a conversation still going on; it does not reopen a settled one.
        summary = helpdesk.ticket_summary(ticket_id)
        ticket_id = None if summary is None or summary.status in {"solved", "closed"} else ticket_id
    received = None
    refused: list[str] = []
    if ticket_id is not None:
        try:
            received, refused = helpdesk.message_receive(
                ticket_id=ticket_id,
                body=body,
                sender_contact_id=contact.pk,
                channel="sms",
                attachments=attachments,
                external_id=message.message_sid,
            )
        except ValidationError:
            received = None  # closed or gone: the customer starts a new request
    if received is None and open_ticket:
        received, refused = helpdesk.ticket_open(
            subject=_subject(message),
            body=body,
            sender_contact_id=contact.pk,
            channel="sms",
            attachments=attachments,
            external_id=message.message_sid,
        )
    if received is not None:
        message.ticket_id, message.ticket_message_id = received.ticket_id, received.message_id
    if refused:
        message.error_message = " ".join(refused)[:300]


def _conversation_ticket(customer_phone: str, our_phone: str) -> int | None:
    """The ticket of the latest text between this customer and this number, either way."""
    return (
        SmsMessage.objects.filter(ticket_id__isnull=False)
        .filter(Q(from_number=customer_phone, to_number=our_phone) | Q(from_number=our_phone, to_number=customer_phone))
        .order_by("-created", "-id")
        .values_list("ticket_id", flat=True)
        .first()
    )


def _subject(message: SmsMessage) -> str:
    text = " ".join(message.body.split())
    if not text:
        return f"Picture message from {message.from_number}"
    return text if len(text) <= SUBJECT_CHARACTERS else text[: SUBJECT_CHARACTERS - 1].rstrip() + "…"


def _attachments(message: SmsMessage) -> tuple[list[InboundAttachment], list[str]]:
    """MMS media downloaded from Twilio; a file that cannot be had is named in the message instead."""
    number = message.number
    attachments, problems = [], []
    for index, item in enumerate(message.media, start=1):
        if number is None:  # disconnected since: no credentials to fetch with
            problems.append(f"(Attachment {index} could not be downloaded: the number was disconnected.)")
            continue
        try:
            media = sms_twilio.media_fetch(
                item["url"],
                account_sid=number.account_sid,
                auth_token=number.auth_token(),
                max_bytes=settings.HELPDESK_ATTACHMENT_MAX_BYTES,
            )
        except (sms_twilio.MediaTooLarge, requests.RequestException, EgressRefused) as error:
            logger.warning("MMS media %s of %s not downloaded: %s", index, message.message_sid, error)
            problems.append(f"(Attachment {index} could not be downloaded: {_connection_error_text(error)})")
            continue
        content_type = media.content_type or item.get("content_type") or "application/octet-stream"
        extension = mimetypes.guess_extension(content_type) or ""
        attachments.append(
            InboundAttachment(filename=f"mms-{index}{extension}", content_type=content_type, content=media.content)
        )
    return attachments, problems


# --- Sending -----------------------------------------------------------------------------------------------


@deliverer("sms")
def sms_deliver(outgoing: OutgoingMessage) -> None:
    """An agent's public reply on an SMS ticket: queued as a text from the number the customer wrote to.

    Only replies go by text; acknowledgements, surveys and auto-responses are emails about the ticket."""
    if outgoing.kind != "reply" or outgoing.message_id is None:
        logger.info("ticket #%s: %s not sent by SMS", outgoing.ticket_id, outgoing.kind)
        return
    if SmsMessage.objects.filter(ticket_message_id=outgoing.message_id, direction="outbound").exists():
        return  # handed over twice: sent once
    last = (
        SmsMessage.objects.filter(ticket_id=outgoing.ticket_id)
        .select_related("number")
        .order_by("-created", "-id")
        .first()
    )
    if last is None or last.number is None:
        detail = "No text came on this ticket from a number connected here, so there is nobody to text back."
        helpdesk.message_delivery_set(message_id=outgoing.message_id, status="failed", detail=detail)
        return
    inbound = last.direction == SmsMessage.Direction.INBOUND
    customer = last.from_number if inbound else last.to_number
    text = sms_twilio.markdown_to_sms(outgoing.body)
    with transaction.atomic():
        first, *rest = [
            SmsMessage.objects.create(
                number=last.number,
                direction=SmsMessage.Direction.OUTBOUND,
                from_number=last.number.phone_number,
                to_number=customer,
                body=part,
                status="queued",
                ticket_id=outgoing.ticket_id,
                ticket_message_id=outgoing.message_id,
            )
            for part in sms_twilio.body_parts(text)
        ]
        if _blocked(first):
            SmsMessage.objects.filter(pk__in=[part.pk for part in rest]).update(
                status=first.status, error_message=first.error_message
            )
            return
        helpdesk.message_delivery_set(message_id=outgoing.message_id, status="queued")
        from ..tasks.sms import sms_send_task

        for part in (first, *rest):
            enqueue_on_commit(sms_send_task, part.pk)


def _blocked(message: SmsMessage) -> bool:
    """Marks the reply failed, with the reason for the agent, when it must not go out."""
    if opted_out(message.to_number):
        _send_failed(message, STOP_REASON.format(phone=message.from_number), status=OPTED_OUT)
        return True
    if message.number is None or not message.number.enabled:
        _send_failed(message, "The SMS number is switched off (Settings → Channels → SMS).", status="failed")
        return True
    return False


def sms_send(message_id: int) -> str:
    """Sends a queued reply through Twilio; returns its status. Raises SmsRetryable on 429/5xx/no connection."""
    message = SmsMessage.objects.select_related("number").filter(pk=message_id).first()
    if message is None or message.message_sid or message.status not in {"queued", "deferred"}:
        return message.status if message else "gone"
    if _blocked(message):
        return message.status
    number = message.number
    sender = {"messaging_service_sid": number.messaging_service_sid} if number.messaging_service_sid else {}
    try:
        sent = sms_twilio.twilio_client(number.account_sid, number.auth_token()).messages.create(
            to=message.to_number,
            from_=number.phone_number,
            body=message.body,
            status_callback=workspace_url(f"{reverse('sms:status')}?m={message.pk}"),
            **sender,
        )
    except TwilioRestException as error:
        if error.status == 429 or error.status >= 500:
            raise SmsRetryable(_rest_error_text(error)) from error
        if error.code == sms_twilio.UNSUBSCRIBED_RECIPIENT:
            _opt_out_record(message.to_number, keyword="", stop=True)
            _send_failed(message, STOP_REASON.format(phone=number.phone_number), status=OPTED_OUT, code=error.code)
        else:
            _send_failed(message, _rest_error_text(error), status="failed", code=error.code)
        return message.status
    except (TwilioException, requests.RequestException) as error:
        if refusal_in(error) is not None or isinstance(error, EgressRefused):
            _send_failed(message, _connection_error_text(error), status="failed")
            return message.status
        raise SmsRetryable(_connection_error_text(error)) from error
    with transaction.atomic():
        message.message_sid = sent.sid
        _status_apply(message, str(sent.status or "queued"), "", "")
        message.save()
        _sid_record(message)
        _report(message)
    return message.status


def sms_send_deferred(message_id: int, reason: str) -> None:
    message = SmsMessage.objects.filter(pk=message_id, message_sid="").first()
    if message is None:
        return
    message.status, message.error_message = "deferred", reason[:300]
    message.save(update_fields=["status", "error_message", "updated"])
    _report(message)


def sms_send_gave_up(message_id: int, reason: str) -> None:
    message = SmsMessage.objects.filter(pk=message_id, message_sid="").first()
    if message is not None:
        _send_failed(message, f"{reason} Gave up after several tries.", status="failed")


def _send_failed(message: SmsMessage, detail: str, *, status: str, code: int | str | None = None) -> None:
    message.status, message.error_message = status, detail[:300]
    message.error_code = str(code or "")[:10]
    message.save()
    _report(message)


# --- Delivery reports ------------------------------------------------------------------------------------


@transaction.atomic
def sms_status_update(*, message: SmsMessage, params: Mapping[str, Any]) -> SmsMessage:
    """Applies Twilio's status callback (already verified) to a reply we sent."""
    message = SmsMessage.objects.select_for_update().get(pk=message.pk)
    sid = str(params.get("MessageSid") or params.get("SmsSid") or "").strip()
    if message.message_sid and sid and sid != message.message_sid:
        raise ValidationError({"MessageSid": "This report is about another message."})
    if not message.message_sid and sid:
        # The report can overtake the API's answer to our own request: the sid is recorded from here then.
        message.message_sid = sid[:64]
        _sid_record(message)
    status = str(params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    code = str(params.get("ErrorCode") or "").strip()
    _status_apply(message, status, code, str(params.get("ErrorMessage") or ""))
    message.save()
    _report(message)
    return message


def _status_apply(message: SmsMessage, status: str, code: str, error_text: str) -> None:
    if status not in STATUS_RANK:
        return
    if STATUS_RANK[status] < STATUS_RANK.get(message.status, -1):
        return  # a late report about an earlier step
    message.status = status
    if code:
        message.error_code = code[:10]
        link = f"https://www.twilio.com/docs/api/errors/{code}"
        message.error_message = f"Twilio: {status}: {error_text or 'no reason given'} (error {code}, {link})"[:300]
        if code == str(sms_twilio.UNSUBSCRIBED_RECIPIENT):
            _opt_out_record(message.to_number, keyword="", stop=True)


def _parts(message: SmsMessage) -> list[SmsMessage]:
    """The texts one reply was sent as (a long reply goes as several)."""
    return list(
        SmsMessage.objects.filter(ticket_message_id=message.ticket_message_id, direction="outbound").order_by("id")
    )


def _sid_record(message: SmsMessage) -> None:
    """The reply's entry in the thread is known by the sid of its first text."""
    if message.ticket_message_id and _parts(message)[0].pk == message.pk:
        helpdesk.message_external_id_set(message_id=message.ticket_message_id, external_id=message.message_sid)


def _report(message: SmsMessage) -> None:
    """Shows on the reply how its delivery stands: its failed text if any, else its least advanced one."""
    if not message.ticket_message_id:
        return
    parts = _parts(message)
    failed = [part for part in parts if part.status in FAILED_STATUSES]
    deferred = [part for part in parts if part.status == "deferred"]
    if failed:
        status, detail = "failed", failed[0].error_message or f"Twilio: {failed[0].status}"
    elif deferred:
        status, detail = "deferred", f"{deferred[0].error_message} Trying again shortly."
    else:
        least = min(parts, key=lambda part: STATUS_RANK.get(part.status, 0))
        status, detail = HELPDESK_STATUS.get(least.status, "queued"), f"Twilio: {least.status}"
    if len(parts) > 1:
        detail = f"{detail} ({len(parts)} texts)"
    helpdesk.message_delivery_set(message_id=message.ticket_message_id, status=status, detail=detail)


# --- Error text --------------------------------------------------------------------------------------------


def _rest_error_text(error: TwilioRestException) -> str:
    text = str(getattr(error, "msg", "") or "").strip() or f"HTTP {error.status}"
    code = f" (error {error.code})" if error.code else ""
    return f"Twilio answered {error.status}: {text}{code}"


def _connection_error_text(error: BaseException) -> str:
    refusal = error if isinstance(error, EgressRefused) else refusal_in(error)
    if refusal is not None:
        return str(refusal)
    if isinstance(error, sms_twilio.MediaTooLarge):
        return str(error)
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"Twilio answered {error.response.status_code}."
    return "Twilio could not be reached."


# --- Texts that are not replies (automation rules) ---------------------------------------------------------


def sms_text_queue(*, to: str, body: str, ticket_id: int | None = None) -> list[int]:
    """Queues a text to `to` from the workspace's first enabled number (an automation rule's "send SMS"), sent by
    the same task as replies (opt-outs respected); returns the parts' ids. ValidationError when no number is
    connected or `to` is not a phone number in E.164 form."""
    number = SmsNumber.objects.filter(enabled=True).order_by("id").first()
    if number is None:
        raise ValidationError({"to": "No SMS number is connected (Settings → Channels → SMS)."})
    to = (to or "").strip()
    if not re.fullmatch(r"\+[1-9]\d{6,14}", to):
        raise ValidationError({"to": f"“{to}” is not a phone number in international form (+14155550100)."})
    from ..tasks.sms import sms_send_task

    ids = []
    with transaction.atomic():
        for part in sms_twilio.body_parts(sms_twilio.markdown_to_sms(body)):
            message = SmsMessage.objects.create(
                number=number,
                direction=SmsMessage.Direction.OUTBOUND,
                from_number=number.phone_number,
                to_number=to,
                body=part,
                status="queued",
                ticket_id=ticket_id,
            )
            if _blocked(message):
                break
            enqueue_on_commit(sms_send_task, message.pk)
            ids.append(message.pk)
    return ids


# --- Notices to the workspace's own people (notifications' SMS channel) -------------------------------------


def sms_notice_send(*, to: str, body: str) -> str:
    """A short notice to a teammate's mobile from the workspace's first enabled number; returns Twilio's answer.

    Not a ticket message: nothing is stored here, the caller (notifications) tracks the delivery. Raises
    SmsNoticeError, retryable for 429/5xx and lost connections."""
    from ..contracts import SmsNoticeError

    if not sms_twilio.E164.match(to or ""):
        raise SmsNoticeError(f"{to!r} is not a mobile number in +country form.", retryable=False)
    if opted_out(to):
        raise SmsNoticeError(f"{to} replied STOP to this workspace's numbers.", retryable=False)
    number = SmsNumber.objects.filter(enabled=True).order_by("pk").first()
    if number is None:
        raise SmsNoticeError("No SMS number is connected (Settings → Channels → SMS).", retryable=False)
    sender = {"messaging_service_sid": number.messaging_service_sid} if number.messaging_service_sid else {}
    try:
        sent = sms_twilio.twilio_client(number.account_sid, number.auth_token()).messages.create(
            to=to, from_=number.phone_number, body=sms_twilio.markdown_to_sms(body)[: sms_twilio.MAX_BODY], **sender
        )
    except TwilioRestException as error:
        retryable = error.status == 429 or error.status >= 500
        raise SmsNoticeError(_rest_error_text(error), retryable=retryable) from error
    except (TwilioException, requests.RequestException) as error:
        refused = refusal_in(error) is not None or isinstance(error, EgressRefused)
        raise SmsNoticeError(_connection_error_text(error), retryable=not refused) from error
    return f"{sent.sid} {sent.status or 'queued'}"
