"""REST endpoints of the helpdesk under /api/v1/: tickets (list, create, read, edit, status, assign), their
messages and attachments, knowledge-base articles and SLA policies. Parse, call a selector or service, serialize.

Conventions are customers/api's: `HasCapability` with the view's read/write capabilities, keyset cursors for
lists, one error body (core/api/errors.py). Edits carry the `version` the client read: a change based on an
older version is refused with 409 Conflict and nothing is saved (no lost update).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse
from django.utils.http import urlencode
from drf_spectacular.types import OpenApiTypes
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
from core.keyset import KeysetOrder

from ..forms import TicketFilterForm
from ..kb_forms import ArticleFilterForm
from ..models import Article, Attachment, Category, SLAPolicy, Team, Ticket
from ..selectors import helpdesk_settings as settings_selectors
from ..selectors import kb as kb_selectors
from ..selectors import tickets as selectors
from ..services import helpdesk_settings as settings_services
from ..services import kb as kb_services
from ..services import tickets as services
from .serializers import (
    ArticleInputSerializer,
    ArticleOutputSerializer,
    MessageCreateFormSerializer,
    MessageCreateSerializer,
    MessageOutputSerializer,
    SLAPolicyInputSerializer,
    SLAPolicyOutputSerializer,
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

KB_PAGE_SIZE = 25
KB_MAX_PAGE_SIZE = 100
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


def _detail(request: Request, ticket_id: int, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(TicketDetailOutputSerializer(_ticket(ticket_id), context={"request": request}).data, status_code)


TICKET_PAGE_SIZE = KeysetCursorPagination.page_size
TICKET_MAX_PAGE_SIZE = KeysetCursorPagination.max_page_size


# --- Tickets --------------------------------------------------------------------------------------------


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
        return Response(TicketDetailOutputSerializer(ticket).data, status=status.HTTP_201_CREATED)


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
        try:
            services.ticket_update(ticket=ticket, actor=request.user, data=data, expected_version=version)
        except services.StaleTicket:
            raise _conflict(ticket_id, version) from None
        except DjangoValidationError as error:
            raise service_error(error, {"original_description": "description"}) from None
        return _detail(request, ticket_id)


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
        try:
            services.ticket_status_set(
                ticket=ticket, status=data["status"], actor=request.user, expected_version=data.get("version")
            )
        except services.StaleTicket:
            raise _conflict(ticket_id, data.get("version")) from None
        except DjangoValidationError as error:
            raise service_error(error) from None
        return _detail(request, ticket_id)


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
        try:
            services.ticket_assign(
                ticket=ticket,
                assignee=data["assignee"],
                team=data.get("team"),
                actor=request.user,
                expected_version=data.get("version"),
            )
        except services.StaleTicket:
            raise _conflict(ticket_id, data.get("version")) from None
        except DjangoValidationError as error:
            raise service_error(error, {"assignee": "assignee_id", "team": "team_id"}) from None
        return _detail(request, ticket_id)


# --- Messages and attachments ---------------------------------------------------------------------------


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


# --- Knowledge base -------------------------------------------------------------------------------------


class _ArticleApi(GenericAPIView):
    permission_classes = [HasCapability]
    read_capability = "kb.view"
    write_capability = "kb.edit"


def _article(article_id: int) -> Article:
    try:
        return kb_selectors.article_get(article_id=article_id)
    except Article.DoesNotExist:
        raise NotFound(f"No article has the id {article_id} in this workspace.") from None


def _page_link(request: Request, number: int | None) -> str | None:
    if number is None:
        return None
    params = request.query_params.copy()
    params["page"] = str(number)
    return request.build_absolute_uri(f"{request.path}?{urlencode(params, doseq=True)}")


ARTICLE_PAGE = inline_serializer(
    "ArticlePage",
    fields={
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "count": serializers.IntegerField(),
        "results": ArticleOutputSerializer(many=True),
    },
)


class ArticleListApi(_ArticleApi):
    serializer_class = ArticleOutputSerializer

    @extend_schema(
        summary="List or search articles",
        operation_id="kb_articles_list",
        description="With `q`, keyword and semantic search, best match first, with a `score` per article. Pages "
        "are numbered (a ranked search has no stable key to seek on); follow `next`.",
        parameters=[
            *params.form_parameters(ArticleFilterForm),
            params.page_size_parameter(default=KB_PAGE_SIZE, maximum=KB_MAX_PAGE_SIZE),
        ],
        responses=ARTICLE_PAGE,
    )
    def get(self, request: Request) -> Response:
        form = params.validated_query(ArticleFilterForm, request.query_params)
        filters = form.filters()
        page_size = params.page_size(request.query_params, default=KB_PAGE_SIZE, maximum=KB_MAX_PAGE_SIZE)
        page = kb_selectors.article_list(
            filters=filters, sort=form.chosen_sort(filters), page=form.chosen_page(), page_size=page_size
        )
        return Response(
            {
                "next": _page_link(request, page.next_page_number() if page.has_next() else None),
                "previous": _page_link(request, page.previous_page_number() if page.has_previous() else None),
                "count": page.paginator.count,
                "results": ArticleOutputSerializer(page.object_list, many=True).data,
            }
        )

    @extend_schema(summary="Write an article", request=ArticleInputSerializer, responses={201: ArticleOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = ArticleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            article = kb_services.article_create(actor=request.user, **serializer.validated_data)
        except DjangoValidationError as error:
            raise service_error(error) from None
        return Response(ArticleOutputSerializer(_article(article.pk)).data, status=status.HTTP_201_CREATED)


class ArticleDetailApi(_ArticleApi):
    serializer_class = ArticleOutputSerializer

    @extend_schema(summary="Get an article", responses=ArticleOutputSerializer)
    def get(self, request: Request, article_id: int) -> Response:
        return Response(ArticleOutputSerializer(_article(article_id)).data)

    @extend_schema(
        summary="Change an article",
        description="Only the fields sent are changed.",
        request=ArticleInputSerializer(partial=True),
        responses=ArticleOutputSerializer,
    )
    def patch(self, request: Request, article_id: int) -> Response:
        article = _article(article_id)
        serializer = ArticleInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            kb_services.article_update(article=article, actor=request.user, data=serializer.validated_data)
        except DjangoValidationError as error:
            raise service_error(error) from None
        return Response(ArticleOutputSerializer(_article(article_id)).data)

    @extend_schema(summary="Delete an article", responses={204: None})
    def delete(self, request: Request, article_id: int) -> Response:
        kb_services.article_delete(article=_article(article_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- SLA policies ---------------------------------------------------------------------------------------


class _PolicyApi(GenericAPIView):
    permission_classes = [HasCapability]
    # Every member may see the targets they are measured against; changing them is running the workspace.
    read_capability = "tickets.view"
    write_capability = "helpdesk.configure"


def _policy(policy_id: int) -> SLAPolicy:
    try:
        return settings_selectors.policy_get(policy_id=policy_id)
    except SLAPolicy.DoesNotExist:
        raise NotFound(f"No SLA policy has the id {policy_id} in this workspace.") from None


class SLAPolicyListApi(_PolicyApi):
    serializer_class = SLAPolicyOutputSerializer
    pagination_class = KeysetCursorPagination

    def keyset_order(self, request: Request) -> KeysetOrder:
        return KeysetOrder(keys=("position", "id"))

    @extend_schema(
        summary="List SLA policies",
        description="In the order they are checked: the first active policy whose conditions match a ticket applies. "
        "Paged like every list (`next`, `previous`, `results`).",
        responses=SLAPolicyOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(settings_selectors.policy_queryset())
        return self.get_paginated_response(SLAPolicyOutputSerializer(page, many=True).data)

    @extend_schema(
        summary="Add an SLA policy (checked last)",
        request=SLAPolicyInputSerializer,
        responses={201: SLAPolicyOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = SLAPolicyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            policy = settings_services.sla_policy_create(data=serializer.validated_data)
        except DjangoValidationError as error:
            raise service_error(error, _POLICY_FIELDS) from None
        return Response(SLAPolicyOutputSerializer(_policy(policy.pk)).data, status=status.HTTP_201_CREATED)


_POLICY_FIELDS = {"calendar": "calendar_id", "breach_reassign_team": "breach_reassign_team_id"}


class SLAPolicyDetailApi(_PolicyApi):
    serializer_class = SLAPolicyOutputSerializer

    @extend_schema(summary="Get an SLA policy", responses=SLAPolicyOutputSerializer)
    def get(self, request: Request, policy_id: int) -> Response:
        return Response(SLAPolicyOutputSerializer(_policy(policy_id)).data)

    @extend_schema(
        summary="Change an SLA policy",
        description="Only the fields sent are changed. Open tickets keep their due times until their next change.",
        request=SLAPolicyInputSerializer(partial=True),
        responses=SLAPolicyOutputSerializer,
    )
    def patch(self, request: Request, policy_id: int) -> Response:
        policy = _policy(policy_id)
        serializer = SLAPolicyInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            settings_services.sla_policy_update(policy=policy, data=serializer.validated_data)
        except DjangoValidationError as error:
            raise service_error(error, _POLICY_FIELDS) from None
        return Response(SLAPolicyOutputSerializer(_policy(policy_id)).data)

    @extend_schema(summary="Delete an SLA policy", responses={204: None})
    def delete(self, request: Request, policy_id: int) -> Response:
        settings_services.sla_policy_delete(policy=_policy(policy_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
