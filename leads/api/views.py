"""REST endpoints for leads under /api/v1/: parse, call a selector or service, serialize."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import HasCapability
from core.api.pagination import KeysetCursorPagination
from core.api.params import form_parameters, validated_query
from core.keyset import KeysetOrder

from .. import selectors, services
from ..forms import LeadFilterForm
from ..models import Lead
from .serializers import LeadCreateSerializer, LeadInputSerializer, LeadMoveSerializer, LeadOutputSerializer


class _LeadApi(GenericAPIView):
    permission_classes = [HasCapability]
    read_capability = "leads.view"
    write_capability = "leads.edit"


def _lead(lead_id: int) -> Lead:
    try:
        return selectors.lead_row(lead_id=lead_id)
    except Lead.DoesNotExist:
        raise NotFound(f"No lead has the id {lead_id} in this workspace.") from None


class LeadListApi(_LeadApi):
    serializer_class = LeadOutputSerializer
    pagination_class = KeysetCursorPagination

    def keyset_order(self, request: Request) -> KeysetOrder:
        name, descending = selectors.parse_sort(request.query_params.get("sort"))
        return KeysetOrder(keys=selectors.LIST_SORT_KEYS[name], descending=descending)

    @extend_schema(
        summary="List leads",
        parameters=form_parameters(LeadFilterForm, exclude=["cursor"]),
        responses=LeadOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = validated_query(LeadFilterForm, request.query_params).query(user=request.user)
        queryset = selectors.lead_queryset(filters=query.filters)
        if query.sort.lstrip("-") == "expected_close":
            queryset = queryset.exclude(expected_close__isnull=True)  # a keyset cannot compare NULLs
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(LeadOutputSerializer(page, many=True).data)

    @extend_schema(summary="Add a lead", request=LeadCreateSerializer, responses={201: LeadOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = LeadCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_create(actor=request.user, **serializer.validated_data)
        return Response(LeadOutputSerializer(_lead(lead.pk)).data, status=status.HTTP_201_CREATED)


class LeadDetailApi(_LeadApi):
    serializer_class = LeadOutputSerializer

    @extend_schema(summary="Get a lead", responses=LeadOutputSerializer)
    def get(self, request: Request, lead_id: int) -> Response:
        return Response(LeadOutputSerializer(_lead(lead_id)).data)

    @extend_schema(
        summary="Change a lead",
        description="Only the fields sent are changed. Stages change by moving the lead (POST …/move/).",
        request=LeadInputSerializer(partial=True),
        responses=LeadOutputSerializer,
    )
    def patch(self, request: Request, lead_id: int) -> Response:
        lead = _lead(lead_id)
        serializer = LeadInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.lead_update(lead=lead, actor=request.user, data=serializer.validated_data)
        return Response(LeadOutputSerializer(_lead(lead_id)).data)


class LeadMoveApi(_LeadApi):
    serializer_class = LeadOutputSerializer

    @extend_schema(summary="Where a lead is", responses=LeadOutputSerializer)
    def get(self, request: Request, lead_id: int) -> Response:
        return Response(LeadOutputSerializer(_lead(lead_id)).data)

    @extend_schema(
        summary="Move a lead",
        description="Puts the lead at `position` (0 = top) of the stage's column. A lost stage needs `lost_reason`.",
        request=LeadMoveSerializer,
        responses=LeadOutputSerializer,
    )
    def post(self, request: Request, lead_id: int) -> Response:
        lead = _lead(lead_id)
        serializer = LeadMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.lead_move(lead=lead, actor=request.user, **serializer.validated_data)
        return Response(LeadOutputSerializer(_lead(lead_id)).data)
