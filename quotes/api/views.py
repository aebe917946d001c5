"""REST endpoints for quotes under /api/v1/: parse, call a selector or service, serialize. A change based on an
older `version` answers 409 (core.api.errors.Conflict) and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import HasCapability
from accounts.roles import user_can
from core.api.errors import Conflict
from core.api.pagination import KeysetCursorPagination
from core.api.params import form_parameters, validated_query
from core.keyset import KeysetOrder

from .. import copilot, printing, selectors, services
from ..forms import QuoteFilterForm, QuotePdfQueryForm
from ..models import Quote, QuoteLine, QuoteRevision, QuoteStatus
from ..views_send import pdf_response
from .serializers import (
    QuoteCopilotSerializer,
    QuoteCreateSerializer,
    QuoteDetailOutputSerializer,
    QuoteFromLeadSerializer,
    QuoteLineCreateSerializer,
    QuoteLineInputSerializer,
    QuoteLineOutputSerializer,
    QuoteOutputSerializer,
    QuoteStatusSerializer,
    QuoteUpdateSerializer,
)


class _QuoteApi(GenericAPIView):
    permission_classes = [HasCapability]
    read_capability = "quotes.view"
    write_capability = "quotes.edit"


def _quote(quote_id: int) -> Quote:
    try:
        return selectors.quote_get(quote_id=quote_id)
    except Quote.DoesNotExist:
        raise NotFound(f"No quote has the id {quote_id} in this workspace.") from None


def _detail(quote_id: int) -> dict:
    quote = _quote(quote_id)
    quote.sheet_lines = selectors.quote_sheet(quote=quote).lines
    return QuoteDetailOutputSerializer(quote).data


def _line(line_id: int) -> QuoteLine:
    try:
        return selectors.quote_line_get(line_id=line_id)
    except QuoteLine.DoesNotExist:
        raise NotFound(f"No quote line has the id {line_id} in this workspace.") from None


# Refusals that come from the quote's state, not from the request: 409 like a stale version.
STATE_CODES = frozenset({"stale", "accepted", "bad_transition", "empty", "reason_required"})


@contextmanager
def _state_conflicts() -> Iterator[None]:
    try:
        yield
    except ValidationError as error:
        if getattr(error, "code", None) in STATE_CODES or _codes(error) & STATE_CODES:
            raise Conflict(" ".join(error.messages)) from None
        raise


def _codes(error: ValidationError) -> set[str]:
    if hasattr(error, "error_dict"):
        return {item.code for items in error.error_dict.values() for item in items}
    return {item.code for item in getattr(error, "error_list", [])}


class QuoteListApi(_QuoteApi):
    serializer_class = QuoteOutputSerializer
    pagination_class = KeysetCursorPagination

    def keyset_order(self, request: Request) -> KeysetOrder:
        return selectors.quote_order(request.query_params.get("sort"))

    @extend_schema(
        summary="List quotes",
        parameters=form_parameters(QuoteFilterForm, exclude=["cursor"]),
        responses=QuoteOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = validated_query(QuoteFilterForm, request.query_params).query(user=request.user)
        queryset = selectors.quote_queryset(filters=query.filters, sort=query.sort)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(QuoteOutputSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a quote",
        description="For a company (optionally answering one of its leads); see also …/quotes/from-lead/. "
        "Numbered from the workspace's sequence: no gaps, no duplicates.",
        request=QuoteCreateSerializer,
        responses={201: QuoteDetailOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        return _create(request, QuoteCreateSerializer)


def _create(request: Request, serializer_class: type) -> Response:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    quote = services.quote_create(actor=request.user, **serializer.validated_data)
    return Response(_detail(quote.pk), status=status.HTTP_201_CREATED)


class QuoteFromLeadApi(_QuoteApi):
    serializer_class = QuoteDetailOutputSerializer

    @extend_schema(
        summary="Create a quote from a lead",
        description="The lead's company and contact are used when not given. Numbered like any quote.",
        request=QuoteFromLeadSerializer,
        responses={201: QuoteDetailOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        return _create(request, QuoteFromLeadSerializer)


class QuoteDetailApi(_QuoteApi):
    serializer_class = QuoteDetailOutputSerializer

    @extend_schema(summary="Get a quote with its lines", responses=QuoteDetailOutputSerializer)
    def get(self, request: Request, quote_id: int) -> Response:
        return Response(_detail(quote_id))

    @extend_schema(
        summary="Change a quote's header",
        description="Only the fields sent change. Changing a sent quote opens its next revision (back to draft).",
        request=QuoteUpdateSerializer,
        responses=QuoteDetailOutputSerializer,
    )
    def patch(self, request: Request, quote_id: int) -> Response:
        quote = _quote(quote_id)
        serializer = QuoteUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        with _state_conflicts():
            services.quote_update(quote=quote, actor=request.user, data=data, expected_version=version)
        return Response(_detail(quote_id))


class QuoteCopilotApi(_QuoteApi):
    serializer_class = QuoteCopilotSerializer

    @extend_schema(
        summary="The copilot's analysis of a quote",
        description="Scope and risks (margin risks only with the quotes.margin capability), questions for the "
        "customer, upsells and cross-sells with why, an executive summary and email copy (templates offline; "
        "generated and checked against the quote's figures with a cloud provider). Each item names its AI run.",
        responses=QuoteCopilotSerializer,
    )
    def get(self, request: Request, quote_id: int) -> Response:
        quote = _quote(quote_id)
        report = copilot.quote_copilot(quote, user=request.user, show_margin=user_can(request.user, "quotes.margin"))
        return Response(QuoteCopilotSerializer(report.as_dict()).data)


class QuoteLineListApi(_QuoteApi):
    serializer_class = QuoteLineOutputSerializer

    @extend_schema(summary="A quote's lines", responses=QuoteLineOutputSerializer(many=True))
    def get(self, request: Request, quote_id: int) -> Response:
        lines = selectors.quote_sheet(quote=_quote(quote_id)).lines
        return Response(QuoteLineOutputSerializer(lines, many=True).data)

    @extend_schema(
        summary="Add a line",
        description="A catalog product (`product_id`), a free line, or a section heading (`kind`: section).",
        request=QuoteLineCreateSerializer,
        responses={201: QuoteDetailOutputSerializer},
    )
    def post(self, request: Request, quote_id: int) -> Response:
        quote = _quote(quote_id)
        serializer = QuoteLineCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        product, kind = data.pop("product", None), data.pop("kind")
        if product is not None:
            product = selectors.product_for_quote(product_id=product.pk)
        version, position = data.pop("version", None), data.pop("position", None)
        with _state_conflicts():
            services.quote_line_add(
                quote=quote, actor=request.user, product=product, kind=kind, data=data, position=position,
                expected_version=version,
            )  # fmt: skip
        return Response(_detail(quote_id), status=status.HTTP_201_CREATED)


class QuoteLineDetailApi(_QuoteApi):
    serializer_class = QuoteLineOutputSerializer

    @extend_schema(summary="Get a line", responses=QuoteLineOutputSerializer)
    def get(self, request: Request, line_id: int) -> Response:
        return Response(QuoteLineOutputSerializer(_line(line_id)).data)

    @extend_schema(summary="Change a line", request=QuoteLineInputSerializer, responses=QuoteDetailOutputSerializer)
    def patch(self, request: Request, line_id: int) -> Response:
        line = _line(line_id)
        serializer = QuoteLineInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        with _state_conflicts():
            services.quote_line_update(line=line, actor=request.user, data=data, expected_version=version)
        return Response(_detail(line.quote_id))

    @extend_schema(summary="Remove a line", request=None, responses={204: None})
    def delete(self, request: Request, line_id: int) -> Response:
        line = _line(line_id)
        with _state_conflicts():
            services.quote_line_remove(line=line, actor=request.user, expected_version=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class QuoteStatusApi(_QuoteApi):
    serializer_class = QuoteOutputSerializer

    @extend_schema(summary="A quote's status", responses=QuoteOutputSerializer)
    def get(self, request: Request, quote_id: int) -> Response:
        return Response(QuoteOutputSerializer(_quote(quote_id)).data)

    @extend_schema(
        summary="Change a quote's status",
        description="draft → sent → viewed → accepted / declined / expired. Sending freezes the revision; "
        "accepting marks that revision accepted and the lead won; declining needs a `reason`.",
        request=QuoteStatusSerializer,
        responses=QuoteOutputSerializer,
    )
    def post(self, request: Request, quote_id: int) -> Response:
        quote = _quote(quote_id)
        serializer = QuoteStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _state_conflicts():
            services.quote_status_set(
                quote=quote, status=data["status"], actor=request.user, reason=data.get("reason", ""),
                expected_version=data.get("version"),
            )  # fmt: skip
        return Response(QuoteOutputSerializer(_quote(quote_id)).data)


class QuotePdfApi(_QuoteApi):
    @extend_schema(
        summary="Download a quote's PDF",
        description="A sent revision (`revision`), the same bytes as were sent (their sha256 is the revision's "
        "`pdf_sha256`); without it, the quote as it stands: its sent revision, or a preview while it is a draft. "
        'Always a download (`Content-Disposition: attachment; filename="Q-00012-rev2.pdf"`).',
        parameters=form_parameters(QuotePdfQueryForm),
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, quote_id: int) -> HttpResponse:
        quote = _quote(quote_id)
        number = validated_query(QuotePdfQueryForm, request.query_params).cleaned_data["revision"]
        if number is None and quote.status != QuoteStatus.DRAFT:
            number = quote.revision
        if number is None:
            return pdf_response(printing.draft_pdf(quote), printing.pdf_filename(quote, quote.revision, draft=True))
        revision = QuoteRevision.objects.filter(quote=quote, number=number).first()
        if revision is None:
            raise NotFound(f"{quote.reference} has no sent revision {number}.")
        return pdf_response(printing.revision_pdf(revision), printing.pdf_filename(quote, number))
