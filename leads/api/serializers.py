"""API shapes for leads: output serializers say what we return, input ones what we accept."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api.serializers import InputSerializer

from ..models import Lead, LeadSource, Stage

# The related models named by Lead's foreign keys: leads never import customers' models.
_CUSTOMERS = Lead._meta.get_field("customer").related_model
_CONTACTS = Lead._meta.get_field("contact").related_model


class MoneyField(serializers.DecimalField):
    """An amount sent as any JSON number: rounded to cents, not refused for its extra decimals (the schema, a
    bounded number, cannot say "at most two decimals" in a way clients honour)."""

    def validate_precision(self, value: Decimal) -> Decimal:
        return super().validate_precision(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class _NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class LeadOwnerSerializer(_NamedSerializer):
    email = serializers.EmailField(read_only=True)


class StageSerializer(_NamedSerializer):
    kind = serializers.CharField(read_only=True, help_text="open, won or lost.")
    probability = serializers.IntegerField(read_only=True, help_text="Win probability (%) of the stage.")
    pipeline_id = serializers.IntegerField(read_only=True)


class LeadLinksSerializer(serializers.Serializer):
    """Where the lead's records live: its page, and the company and contact it is (or was converted to) linked to."""

    page = serializers.CharField(read_only=True, help_text="The lead's page in the workspace.")
    customer = serializers.CharField(read_only=True, allow_null=True, help_text="The linked company in this API.")
    contact = serializers.CharField(read_only=True, allow_null=True, help_text="The linked contact in this API.")


@extend_schema_serializer(component_name="Lead")
class LeadOutputSerializer(serializers.ModelSerializer):
    stage = StageSerializer(read_only=True)
    customer = _NamedSerializer(read_only=True, allow_null=True)
    contact = _NamedSerializer(read_only=True, allow_null=True)
    owner = LeadOwnerSerializer(read_only=True, allow_null=True)
    value = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, coerce_to_string=False)
    position = serializers.FloatField(read_only=True, help_text="Order within the stage's board column (ascending).")
    # A string, not format "email": empty when the prospect's address is unknown.
    contact_email = serializers.CharField(read_only=True, help_text="The prospect's email address, or empty.")
    links = serializers.SerializerMethodField()

    class Meta:
        model = Lead
        fields = [
            "id", "title", "stage", "customer", "contact", "company_name", "company_domain", "contact_name",
            "contact_email", "source", "source_ref", "owner", "value", "currency", "expected_close", "probability",
            "lost_reason", "tags", "position", "created", "updated", "won_at", "lost_at", "links",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(LeadLinksSerializer)
    def get_links(self, lead: Lead) -> dict[str, str | None]:
        return {
            "page": reverse("leads:lead_detail", args=[lead.pk]),
            "customer": reverse("customers_api:customer_detail", args=[lead.customer_id]) if lead.customer_id else None,
            "contact": reverse("customers_api:contact_detail", args=[lead.contact_id]) if lead.contact_id else None,
        }


class LeadInputSerializer(InputSerializer):
    title = serializers.CharField(max_length=200)
    customer_id = serializers.PrimaryKeyRelatedField(
        source="customer",
        queryset=_CUSTOMERS.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "No customer has the id {pk_value} in this workspace."},
    )
    contact_id = serializers.PrimaryKeyRelatedField(
        source="contact",
        queryset=_CONTACTS.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "No contact has the id {pk_value} in this workspace."},
        help_text="A contact of the lead's company (the company is taken from it when none is given).",
    )
    source = serializers.ChoiceField(choices=LeadSource.choices, required=False)
    owner_id = serializers.PrimaryKeyRelatedField(
        source="owner",
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "No active teammate has the id {pk_value}."},
    )
    value = MoneyField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        max_value=Decimal("999999999999.99"),
        required=False,
        coerce_to_string=False,
        help_text="Rounded to cents.",
    )
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, help_text="ISO 4217 code, e.g. USD.")
    expected_close = serializers.DateField(required=False, allow_null=True)
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=20)
    company_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="The prospect's company when not a customer yet."
    )
    company_domain = serializers.CharField(max_length=253, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, help_text="Matched against contacts when the lead is won."
    )
    source_ref = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="The record the lead came from, e.g. a ticket id."
    )

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Give the lead a title.")
        return value.strip()


class LeadCreateSerializer(LeadInputSerializer):
    stage_id = serializers.PrimaryKeyRelatedField(
        source="stage",
        queryset=Stage.objects.all(),
        required=False,
        error_messages={"does_not_exist": "No stage has the id {pk_value} in this workspace."},
        help_text="The stage it starts in; the default pipeline's first stage when left out.",
    )
    lost_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class LeadMoveSerializer(InputSerializer):
    stage_id = serializers.PrimaryKeyRelatedField(
        source="stage",
        queryset=Stage.objects.all(),
        error_messages={"does_not_exist": "No stage has the id {pk_value} in this workspace."},
    )
    position = serializers.IntegerField(min_value=0, default=0, help_text="Index in the column, 0 for the top.")
    lost_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Required when the stage is a lost one."
    )
