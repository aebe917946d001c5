"""The inbound API channel, POST /api/v1/inbox/messages/: a form or a bot opens a ticket or adds a message to one,
with an optional `Idempotency-Key` header that makes retries safe (inbox.services.api_channel)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import HasCapability
from core.api.errors import Conflict, service_error
from helpdesk.contracts import InboundAttachment

from ..services import api_channel
from .serializers import InboundMessageOutputSerializer, InboundMessageSerializer

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


class InboundMessageApi(GenericAPIView):
    permission_classes = [HasCapability]
    read_capability = "tickets.view"
    write_capability = "tickets.edit"
    parser_classes = [JSONParser]
    serializer_class = InboundMessageSerializer

    @extend_schema(
        summary="Send a customer's message (forms, bots): opens a ticket, or adds to `ticket_id`",
        description="The API channel. Files come as base64 in `attachments`. Send an `Idempotency-Key` to retry "
        "safely: the same key with the same body gets the first answer again (with `Idempotent-Replayed: true`) "
        "for 24 hours; the same key with another body is refused (409).",
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Any unique text up to 255 characters, e.g. a UUID per message.",
            )
        ],
        request=InboundMessageSerializer,
        responses={
            201: InboundMessageOutputSerializer,
            409: OpenApiResponse(
                description="The ticket is closed, or the Idempotency-Key was used with another request."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        if len(key) > api_channel.MAX_KEY_LENGTH:
            raise ValidationError({IDEMPOTENCY_HEADER: [f"Send at most {api_channel.MAX_KEY_LENGTH} characters."]})
        serializer = InboundMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not key:
            answer_status, body = _receive(data)
            return Response(body, answer_status)
        fingerprint = api_channel.request_fingerprint(user_id=request.user.pk, path=request.path, data=request.data)
        try:
            answer = api_channel.idempotent(
                key=key, fingerprint=fingerprint, user_id=request.user.pk, run=lambda: _receive(data)
            )
        except api_channel.IdempotencyConflict as error:
            raise Conflict(str(error)) from None
        response = Response(answer.body, answer.status)
        if answer.replayed:
            response[REPLAYED_HEADER] = "true"
        return response


def _receive(data: dict) -> tuple[int, dict]:
    attachments = [
        InboundAttachment(filename=item["filename"], content_type=item["content_type"], content=item["content"])
        for item in data.get("attachments", ())
    ]
    try:
        received, refused = api_channel.api_message_receive(
            body=data["body"],
            subject=data.get("subject", ""),
            requester_email=data.get("requester_email", ""),
            requester_name=data.get("requester_name", ""),
            ticket_id=data.get("ticket_id"),
            attachments=attachments,
        )
    except api_channel.TicketClosed as error:
        raise Conflict(str(error)) from None
    except DjangoValidationError as error:
        raise service_error(error, {"description": "body", "requester": "requester_email"}) from None
    body = InboundMessageOutputSerializer(
        {
            "ticket_id": received.ticket_id,
            "message_id": received.message_id,
            "created_ticket": received.created_ticket,
            "refused_attachments": refused,
        }
    ).data
    return status.HTTP_201_CREATED, dict(body)
