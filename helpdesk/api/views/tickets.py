"""Ticket endpoints: list, open, read, change, status and assignment. Edits carry the `version` the client
read: a change based on an older version is refused with 409 Conflict and nothing is saved (no lost update)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from accounts.permissions import HasCapability
from core.api import params
from core.api.errors import Conflict, service_error
from core.api.pagination import KeysetCursorPagination

from ...forms import TicketFilterForm
from ...models import Category, Team, Ticket
from ...selectors import tickets as selectors
from ...services import tickets as services
from ..serializers import (
    TicketAssignmentOutputSerializer,
    TicketAssignSerializer,
    TicketCreateFormSerializer,
    TicketCreateSerializer,
    TicketDetailOutputSerializer,
    TicketOutputSerializer,
    TicketStatusOutputSerializer,
    TicketStatusSerializer,
    TicketUpdateSerializer,
)

CONFLICT_RESPONSE = OpenApiResponse(description="The ticket changed since the version you sent; nothing was saved.")


class _TicketApi(GenericAPIView):
    permission_classes = [HasCapability]
    read_capability = "tickets.view"
    write_capability = "tickets.edit"


def _ticket(ticket_id: int) -> Ticket:
    try:
        return selectors.ticket_get(ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise NotFound(f"No ticket has the id {ticket_id} in this workspace.") from None


def _conflict(ticket_id: int, sent: int | None) -> Conflict:
    current = Ticket.objects.filter(pk=ticket_id).values_list("version", flat=True).first()
    return Conflict(
        f"Ticket #{ticket_id} changed since you read it (you sent version {sent}, it is now version {current}). "
        "Nothing was saved: read the ticket again, then repeat your change."
    )


def _is_form_data(request: Request) -> bool:
    return request.content_type.startswith("multipart/form-data")


# Built once and shared by every request (its fields bound, no context): a ModelSerializer builds its thirty-odd
# fields again on every instantiation, 0.8 ms of CPU, while representing a ticket with them is pure.
_TICKET_DETAIL = TicketDetailOutputSerializer()


def _detail_data(ticket: Ticket) -> dict:
    return _TICKET_DETAIL.to_representation(ticket)


def _detail(request: Request, ticket_id: int, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(_detail_data(_ticket(ticket_id)), status_code)


def _changed(
    request: Request, ticket_id: int, version: int | None, change: Callable[[], object], renames=None
) -> Response:
    """Runs `change` (a ticket service) and answers with the ticket: 409 when someone changed it since `version`,
    400 with the service's messages under the API's field names (`renames`) when it refuses the change."""
    try:
        change()
    except services.StaleTicket:
        raise _conflict(ticket_id, version) from None
    except DjangoValidationError as error:
        raise service_error(error, renames) from None
    return _detail(request, ticket_id)


TICKET_PAGE_SIZE = KeysetCursorPagination.page_size
TICKET_MAX_PAGE_SIZE = KeysetCursorPagination.max_page_size


def _cursor_link(request: Request, cursor: str | None) -> str | None:
    if not cursor:
        return None
    return replace_query_param(request.build_absolute_uri(), "cursor", cursor)


TICKET_PAGE = inline_serializer(
    "TicketPage",
    fields={
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "count": serializers.IntegerField(help_text="Matching tickets, counted up to 10,000."),
        "count_capped": serializers.BooleanField(help_text="True: more than `count` tickets match."),
        "results": TicketOutputSerializer(many=True),
    },
)


class TicketListApi(_TicketApi):
    """Pages come from the list page's own selector (two steps: ids by index, then the rows), so the API is as
    fast as the agent workspace at 100k tickets; its cursors are keyset positions like every list's."""

    serializer_class = TicketOutputSerializer
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        summary="List tickets",
        operation_id="tickets_list",
        parameters=[
            *params.form_parameters(TicketFilterForm, exclude=["cursor"]),
            *params.pagination_parameters(default=TICKET_PAGE_SIZE, maximum=TICKET_MAX_PAGE_SIZE),
        ],
        responses=TICKET_PAGE,
    )
    def get(self, request: Request) -> Response:
        query = params.validated_query(TicketFilterForm, request.query_params).query(user=request.user)
        page = selectors.ticket_list(
            filters=query.filters,
            sort=query.sort,
            cursor=query.cursor,
            page_size=KeysetCursorPagination().get_page_size(request),
        )
        # Names of the page's categories and teams: two small queries whatever the page size.
        prefetch_related_objects(
            page.items, Prefetch("category", Category.objects.only("name")), Prefetch("team", Team.objects.only("name"))
        )
        return Response(
            {
                "next": _cursor_link(request, page.next_cursor),
                "previous": _cursor_link(request, page.prev_cursor),
                "count": page.total,
                "count_capped": page.total_capped,
                "results": TicketOutputSerializer(page.items, many=True).data,
            }
        )

    @extend_schema(
        summary="Open a ticket",
        description="JSON, or multipart/form-data to attach files. The requester is a contact (requester_id) or an "
        "email address (requester_email): an unknown address becomes a new contact. The answer is the ticket as "
        "created, SLA clocks included; automatic assignment and the AI analysis follow within moments (GET the "
        "ticket to see them).",
        request={"application/json": TicketCreateSerializer, "multipart/form-data": TicketCreateFormSerializer},
        responses={201: TicketDetailOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer_class = TicketCreateFormSerializer if _is_form_data(request) else TicketCreateSerializer
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            ticket = services.ticket_create(actor=request.user, **serializer.validated_data)
        except DjangoValidationError as error:
            raise service_error(error) from None
        # The ticket as inserted, its relations already at hand: no second read. Assignment follows in the
        # background (helpdesk.services.intake); GET it again to see the assignee.
        return Response(_detail_data(ticket), status=status.HTTP_201_CREATED)


class TicketDetailApi(_TicketApi):
    serializer_class = TicketDetailOutputSerializer

    @extend_schema(summary="Get a ticket", responses=TicketDetailOutputSerializer)
    def get(self, request: Request, ticket_id: int) -> Response:
        return _detail(request, ticket_id)

    @extend_schema(
        summary="Change a ticket",
        description="Only the fields sent are changed. `version` is required: the version you read. If someone "
        "changed the ticket since, nothing is saved and the answer is 409.",
        request=TicketUpdateSerializer,
        responses={200: TicketDetailOutputSerializer, 409: CONFLICT_RESPONSE},
    )
    def patch(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket(ticket_id)
        serializer = TicketUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        return _changed(
            request,
            ticket_id,
            version,
            lambda: services.ticket_update(ticket=ticket, actor=request.user, data=data, expected_version=version),
            {"original_description": "description"},
        )


class TicketStatusApi(_TicketApi):
    """The ticket's status as a resource of its own: read it, or set it (optionally checked against a version)."""

    serializer_class = TicketStatusOutputSerializer

    @extend_schema(summary="Get a ticket's status", responses=TicketStatusOutputSerializer)
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(TicketStatusOutputSerializer(_ticket(ticket_id)).data)

    @extend_schema(
        summary="Set a ticket's status",
        request=TicketStatusSerializer,
        responses={200: TicketDetailOutputSerializer, 409: CONFLICT_RESPONSE},
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket(ticket_id)
        serializer = TicketStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return _changed(
            request,
            ticket_id,
            data.get("version"),
            lambda: services.ticket_status_set(
                ticket=ticket, status=data["status"], actor=request.user, expected_version=data.get("version")
            ),
        )


class TicketAssignmentApi(_TicketApi):
    """Who works the ticket, as a resource of its own: read it, or hand the ticket to someone (or nobody)."""

    serializer_class = TicketAssignmentOutputSerializer

    @extend_schema(summary="Get a ticket's assignee and team", responses=TicketAssignmentOutputSerializer)
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(TicketAssignmentOutputSerializer(_ticket(ticket_id)).data)

    @extend_schema(
        summary="Assign a ticket",
        request=TicketAssignSerializer,
        responses={200: TicketDetailOutputSerializer, 409: CONFLICT_RESPONSE},
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket(ticket_id)
        serializer = TicketAssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return _changed(
            request,
            ticket_id,
            data.get("version"),
            lambda: services.ticket_assign(
                ticket=ticket,
                assignee=data["assignee"],
                team=data.get("team"),
                actor=request.user,
                expected_version=data.get("version"),
            ),
            {"assignee": "assignee_id", "team": "team_id"},
        )
