"""The daily summary endpoint under /api/v1/: a company's stored summary of one day (customers/digests.py)."""

from __future__ import annotations

from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from .. import digests
from ..models import DailySummary
from .views import _customer, _CustomerApi


class DailySummarySourceSerializer(serializers.Serializer):
    number = serializers.IntegerField(read_only=True, help_text="What the statements cite.")
    kind = serializers.CharField(read_only=True)
    at = serializers.DateTimeField(read_only=True)
    title = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)
    actor = serializers.CharField(read_only=True)


class DailySummaryStatementSerializer(serializers.Serializer):
    text = serializers.CharField(read_only=True)
    sources = serializers.ListField(child=serializers.IntegerField(), read_only=True, help_text="Source numbers.")


class DailySummaryCountSerializer(serializers.Serializer):
    kind = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True)


class DailySummaryOutputSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(read_only=True)
    date = serializers.DateField(source="day", read_only=True)
    generated = serializers.BooleanField(read_only=True, help_text="Written by a generative model; else extracted.")
    model = serializers.CharField(read_only=True)
    counts = DailySummaryCountSerializer(many=True, read_only=True)
    statements = DailySummaryStatementSerializer(many=True, read_only=True)
    sources = DailySummarySourceSerializer(many=True, read_only=True)
    created = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null: no summary that day.")


def _day(value: str | None) -> date:
    if not value:
        return digests.yesterday()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError({"date": "Give the day as YYYY-MM-DD, e.g. 2026-03-01."}) from None


class CustomerDailySummaryApi(_CustomerApi):
    serializer_class = DailySummaryOutputSerializer

    @extend_schema(
        summary="Get a customer's daily summary",
        description="What happened at the company on one day of the workspace's calendar (default: yesterday), as "
        "statements citing numbered timeline entries. Empty lists (and a null `created`) when nothing happened.",
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, description="The day (YYYY-MM-DD); default yesterday.")
        ],
        responses=DailySummaryOutputSerializer,
    )
    def get(self, request: Request, customer_id: int) -> Response:
        customer = _customer(customer_id)
        day = _day(request.query_params.get("date"))
        summary = digests.daily_summary_get(customer_id=customer.pk, day=day)
        if summary is None:  # nothing happened that day (or the nightly job has not run yet): an empty summary
            summary = DailySummary(customer=customer, day=day, created=None)
        return Response(DailySummaryOutputSerializer(summary).data)
