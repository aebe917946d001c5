"""API shapes of the inbound API channel: a message from a form or a bot, and where it landed."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from core.api.serializers import InputSerializer

MAX_SUBJECT = 200  # helpdesk's limits: a longer text is refused there with the same words
MAX_BODY = 50_000
MAX_ATTACHMENTS = 10
BASE64 = RegexValidator(
    r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    message="Send the file's bytes as standard base64 (RFC 4648, with padding).",
)


class InboundAttachmentSerializer(InputSerializer):
    filename = serializers.CharField(max_length=200)
    content_type = serializers.CharField(
        max_length=100, required=False, default="application/octet-stream", help_text="e.g. application/pdf."
    )
    content = serializers.CharField(validators=[BASE64], help_text="The file's bytes, base64-encoded.")

    def validate_content(self, value: str) -> bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError(BASE64.message) from None


class InboundMessageSerializer(InputSerializer):
    """Without `ticket_id`: a new ticket for `requester_email`. With it: a message on that ticket, from
    `requester_email` (the ticket's requester if left out)."""

    subject = serializers.CharField(
        max_length=MAX_SUBJECT,
        required=False,
        allow_blank=True,
        help_text="For a new ticket; empty: the first line of the body.",
    )
    body = serializers.CharField(max_length=MAX_BODY, error_messages={"blank": "The message cannot be empty."})
    requester_email = serializers.EmailField(max_length=254, required=False, help_text="Who writes.")
    requester_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    ticket_id = serializers.IntegerField(
        required=False, min_value=1, help_text="Add the message to this ticket instead of opening one."
    )
    attachments = InboundAttachmentSerializer(
        many=True,
        required=False,
        max_length=MAX_ATTACHMENTS,
        help_text="Files as base64 JSON. Files the upload allow-list refuses are left out, and listed in "
        "`refused_attachments` of the answer.",
    )

    class Meta:
        require_one_of = ["ticket_id", "requester_email"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("ticket_id") is None and not attrs.get("requester_email"):
            raise serializers.ValidationError(
                {"requester_email": ["Say who writes: a requester_email (or a ticket_id to add to)."]}
            )
        return attrs


class InboundMessageOutputSerializer(serializers.Serializer):
    ticket_id = serializers.IntegerField()
    message_id = serializers.IntegerField(
        allow_null=True,
        help_text="The thread entry; null for a new ticket without attachments (its description is the message).",
    )
    created_ticket = serializers.BooleanField()
    refused_attachments = serializers.ListField(child=serializers.CharField(), help_text="Why files were left out.")
