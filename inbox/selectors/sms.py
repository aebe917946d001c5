"""Reads for the SMS settings: the workspace's Twilio numbers with what they received and sent lately."""

from __future__ import annotations

from django.db.models import Count, Max, Q

from ..models import SmsMessage, SmsNumber, SmsOptOut


def sms_number_list() -> list[SmsNumber]:
    return list(
        SmsNumber.objects.annotate(
            received=Count("messages", filter=Q(messages__direction="inbound")),
            sent=Count("messages", filter=Q(messages__direction="outbound")),
            last_message_at=Max("messages__created"),
        ).order_by("phone_number", "id")
    )


def sms_number_get(*, number_id: int) -> SmsNumber:
    return SmsNumber.objects.get(pk=number_id)


def sms_number_for_phone(phone: str) -> SmsNumber | None:
    return SmsNumber.objects.filter(phone_number=phone.strip()).first()


def sms_opt_out_count() -> int:
    return SmsOptOut.objects.filter(opted_in_at__isnull=True).count()


def sms_message_get(*, message_id: int) -> SmsMessage | None:
    return SmsMessage.objects.select_related("number").filter(pk=message_id).first()
