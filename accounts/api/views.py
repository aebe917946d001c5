"""People endpoints of the workspace API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasCapability

from .serializers import MeSerializer


class MeApi(APIView):
    """The caller: who they are in this workspace and what their role lets them do."""

    permission_classes = [HasCapability]
    read_capability = "api.use"

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
