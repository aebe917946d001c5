"""GET /api/v1/leads/{id}/intelligence/: the lead page's intelligence card as JSON."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from .. import intelligence
from ..models import Lead
from .views import _LeadApi


class ProbabilitySerializer(serializers.Serializer):
    percent = serializers.IntegerField(help_text="Chance (0–100) that the lead is won.")
    drivers = serializers.ListField(child=serializers.CharField(), help_text="What drove it, in words.")
    model = serializers.CharField(
        allow_blank=True, help_text='The model version, e.g. "leads.conversion v3"; "" for the heuristic.'
    )
    note = serializers.CharField()


class RiskSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["no_activity", "close_date_passed", "single_threaded", "discount_asked"])
    message = serializers.CharField()


class StepSerializer(serializers.Serializer):
    day = serializers.DateField()
    kind = serializers.CharField()
    subject = serializers.CharField()
    draft = serializers.CharField(allow_blank=True)


class SimilarSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField()
    title = serializers.CharField()
    source = serializers.CharField()
    value = serializers.FloatField()
    activities = serializers.IntegerField()
    days_to_close = serializers.IntegerField(allow_null=True)
    score = serializers.FloatField()


class IntelligenceSerializer(serializers.Serializer):
    closed = serializers.BooleanField(help_text="A won or lost lead gets only its summary.")
    summary = serializers.CharField()
    probability = ProbabilitySerializer(allow_null=True)
    risks = RiskSerializer(many=True)
    plan = StepSerializer(many=True)
    plan_by = serializers.CharField(help_text='"template", or the generative model that drafted the plan.')
    similar = SimilarSerializer(many=True)


class LeadIntelligenceApi(_LeadApi):
    serializer_class = IntelligenceSerializer

    @extend_schema(summary="A lead's conversion probability, risks, outreach plan and similar won leads",
                   responses=IntelligenceSerializer)  # fmt: skip
    def get(self, request: Request, lead_id: int) -> Response:
        try:
            report = intelligence.lead_intelligence(lead_id=lead_id, user=request.user)
        except Lead.DoesNotExist:
            raise NotFound(f"No lead has the id {lead_id} in this workspace.") from None
        return Response(IntelligenceSerializer(report).data)
