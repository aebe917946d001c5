"""SLA policies: list in checking order, add, read, change, delete."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import HasCapability
from core.api.errors import service_error
from core.api.pagination import KeysetCursorPagination
from core.keyset import KeysetOrder

from ...models import SLAPolicy
from ...selectors import helpdesk_settings as settings_selectors
from ...services import helpdesk_settings as settings_services
from ..serializers import SLAPolicyInputSerializer, SLAPolicyOutputSerializer


class _PolicyApi(GenericAPIView):
    permission_classes = [HasCapability]
    # Every member may see the targets they are measured against; changing them is running the workspace.
    read_capability = "tickets.view"
    write_capability = "helpdesk.configure"


def _policy(policy_id: int) -> SLAPolicy:
    try:
        return settings_selectors.sla_policy_get(policy_id=policy_id)
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
        page = self.paginate_queryset(settings_selectors.sla_policy_queryset())
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
