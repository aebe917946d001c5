"""Trained model versions of the workspace: list (newest first, optionally of one classifier) and read one."""

from __future__ import annotations

from django import forms
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import HasCapability
from core.api import params
from core.api.pagination import KeysetCursorPagination
from core.keyset import KeysetOrder

from .. import classifier_selectors as selectors
from .serializers import ModelVersionOutputSerializer


class ModelVersionFilterForm(forms.Form):
    classifier = forms.CharField(
        required=False, max_length=80, help_text='Only the versions of this classifier, e.g. "helpdesk.category".'
    )


class _ModelVersionApi(GenericAPIView):
    permission_classes = [HasCapability]
    # How the workspace's models perform is for the people who run it, as on the AI pages.
    read_capability = "ai.usage.view"
    write_capability = "ai.configure"
    serializer_class = ModelVersionOutputSerializer


class ModelVersionListApi(_ModelVersionApi):
    pagination_class = KeysetCursorPagination

    def keyset_order(self, request: Request) -> KeysetOrder:
        return KeysetOrder(keys=("id",), descending=True)

    @extend_schema(
        summary="List trained model versions",
        description="Newest first, with each version's held-out evaluation next to the then-deployed version's and "
        "the majority baseline's on the same holdout. Paged like every list (`next`, `previous`, `results`).",
        parameters=params.form_parameters(ModelVersionFilterForm),
        responses=ModelVersionOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        form = params.validated_query(ModelVersionFilterForm, request.query_params)
        rows = selectors.model_version_list(name=form.cleaned_data["classifier"] or None)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ModelVersionOutputSerializer(page, many=True).data)


class ModelVersionDetailApi(_ModelVersionApi):
    @extend_schema(summary="Get a trained model version", responses=ModelVersionOutputSerializer)
    def get(self, request: Request, version_id: int) -> Response:
        version = selectors.model_version_get(version_id=version_id)
        if version is None:
            raise NotFound(f"No model version has the id {version_id} in this workspace.")
        return Response(ModelVersionOutputSerializer(version).data)
