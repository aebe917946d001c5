"""A ticket's messages (replies and internal notes) and attachment downloads."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.errors import service_error
from core.api.pagination import KeysetCursorPagination
from core.keyset import KeysetOrder

from ...models import Attachment
from ...selectors import tickets as selectors
from ...services import tickets as services
from ..serializers import MessageCreateFormSerializer, MessageCreateSerializer, MessageOutputSerializer
from .tickets import _is_form_data, _ticket, _TicketApi


class TicketMessageListApi(_TicketApi):
    serializer_class = MessageOutputSerializer
    pagination_class = KeysetCursorPagination
    parser_classes = [JSONParser, MultiPartParser]

    def keyset_order(self, request: Request) -> KeysetOrder:
        return KeysetOrder(keys=("created", "id"))

    @extend_schema(summary="List a ticket's messages (oldest first)", responses=MessageOutputSerializer(many=True))
    def get(self, request: Request, ticket_id: int) -> Response:
        page = self.paginate_queryset(selectors.ticket_messages(ticket=_ticket(ticket_id)))
        return self.get_paginated_response(MessageOutputSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Reply or add an internal note",
        description="JSON, or multipart/form-data to attach files. `status` optionally changes the ticket's status "
        "in the same step.",
        request={"application/json": MessageCreateSerializer, "multipart/form-data": MessageCreateFormSerializer},
        responses={201: MessageOutputSerializer},
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket(ticket_id)
        serializer_class = MessageCreateFormSerializer if _is_form_data(request) else MessageCreateSerializer
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            message = services.message_add(
                ticket=ticket,
                actor=request.user,
                body=data["body"],
                kind=data["kind"],
                attachments=data.get("attachments", ()),
                status=data.get("status"),
            )
        except DjangoValidationError as error:
            raise service_error(error) from None
        message = selectors.ticket_messages(ticket=ticket).get(pk=message.pk)
        return Response(MessageOutputSerializer(message, context={"request": request}).data, status.HTTP_201_CREATED)


class AttachmentDownloadApi(_TicketApi):
    @extend_schema(
        summary="Download an attachment",
        description="The file as uploaded, with the content type it was uploaded with (the attachment's "
        "`content_type`), always as a download (`Content-Disposition: attachment`).",
        responses={(200, "*/*"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, attachment_id: int) -> FileResponse:
        """Always a download, never shown inline or sniffed (an uploaded .html cannot run in our origin)."""
        try:
            attachment = selectors.attachment_get(attachment_id=attachment_id)
            handle = attachment.file.open("rb")
        except (Attachment.DoesNotExist, FileNotFoundError):
            raise NotFound(f"No attachment has the id {attachment_id} in this workspace.") from None
        response = FileResponse(
            handle, as_attachment=True, filename=attachment.filename, content_type=attachment.content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response
