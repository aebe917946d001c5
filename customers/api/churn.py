"""Marking a company churned or not churned under /api/v1/ (customers.services.customer_churn_mark / _unmark): the
labels the workspace's churn model learns from (customers/churn.py)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.errors import service_error

from .. import services
from .serializers import ChurnSummarySerializer
from .views import _customer, _CustomerApi


class ChurnInputSerializer(serializers.Serializer):
    churned_at = serializers.DateField(
        required=False,
        help_text="The day the company stopped being a customer (YYYY-MM-DD): not in the future, not before it was "
        "added. Default: today.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=services.CHURN_REASON_LIMIT,
        help_text="Why it left, in a few words, e.g. “Moved to a competitor”.",
    )


class CustomerChurnApi(_CustomerApi):
    serializer_class = ChurnSummarySerializer
    # Un-marking is an edit (a label corrected), not a deletion of anything.
    delete_capability = "customers.edit"

    @extend_schema(
        summary="Get a customer's churn",
        description="Whether the company churned (the day and the reason), else its churn risk with its reasons.",
        responses=ChurnSummarySerializer,
    )
    def get(self, request: Request, customer_id: int) -> Response:
        return Response(ChurnSummarySerializer(_customer(customer_id)).data)

    @extend_schema(
        summary="Mark a customer churned",
        description="Marks the company churned on `churned_at` with an optional reason; its churn risk is cleared. "
        "Marking it again changes the date and reason. The churned companies train the workspace's churn model.",
        request=ChurnInputSerializer,
        responses=ChurnSummarySerializer,
    )
    def post(self, request: Request, customer_id: int) -> Response:
        customer = _customer(customer_id)
        serializer = ChurnInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            services.customer_churn_mark(
                customer=customer, actor=request.user, churned_at=data.get("churned_at"), reason=data.get("reason", "")
            )
        except ValidationError as error:
            raise service_error(error, {"churn_reason": "reason"}) from None
        return Response(ChurnSummarySerializer(_customer(customer_id)).data)

    @extend_schema(
        summary="Mark a customer not churned",
        description="The company is a customer again (or was marked by mistake): the churn date and reason are "
        "cleared, and the next health run scores its churn risk again. Nothing changes for a company not churned.",
        request=None,
        responses=ChurnSummarySerializer,
    )
    def delete(self, request: Request, customer_id: int) -> Response:
        services.customer_churn_unmark(customer=_customer(customer_id), actor=request.user)
        return Response(ChurnSummarySerializer(_customer(customer_id)).data)
