"""API shapes for quotes: output serializers say what we return, input ones what we accept."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.api.serializers import InputSerializer
from customers import facade as customers
from leads import facade as leads

from ..models import LineKind, Product, Quote, QuoteLine, QuoteStatus


@extend_schema_serializer(component_name="QuoteParty")
class QuotePartySerializer(serializers.Serializer):
    """A company or person named by a quote (leads' API has its own "_Named")."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


@extend_schema_serializer(component_name="QuoteOwner")
class QuoteOwnerSerializer(QuotePartySerializer):
    email = serializers.EmailField(read_only=True)


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=3, read_only=True, coerce_to_string=True, **kwargs)


@extend_schema_serializer(component_name="QuoteLine")
class QuoteLineOutputSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True, allow_null=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4, read_only=True)
    discount = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)

    class Meta:
        model = QuoteLine
        fields = [
            "id", "position", "kind", "product_id", "description", "quantity", "unit", "unit_price", "discount",
            "tax_rate", "optional", "selected",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_serializer(component_name="Quote")
class QuoteOutputSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True, help_text="The quote number as people read it: Q-00042.")
    lead_id = serializers.IntegerField(read_only=True, allow_null=True)
    customer = QuotePartySerializer(read_only=True, allow_null=True)
    contact = QuotePartySerializer(read_only=True, allow_null=True)
    owner = QuoteOwnerSerializer(read_only=True, allow_null=True)
    subtotal = _money(help_text="Sum of the counted lines, each rounded to the currency's minor unit (half up).")
    tax_total = _money(help_text="Tax per rate on the rounded lines, each rate rounded once.")
    total = _money()
    version = serializers.IntegerField(
        read_only=True, help_text="Send it back with a change: a change based on an older version is refused (409)."
    )

    class Meta:
        model = Quote
        fields = [
            "id", "number", "reference", "title", "status", "lead_id", "customer", "contact", "currency",
            "valid_until", "payment_terms", "notes", "terms", "owner", "revision", "version", "subtotal",
            "tax_total", "total", "decline_reason", "created", "updated", "sent_at", "accepted_at",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_serializer(component_name="QuoteDetail")
class QuoteDetailOutputSerializer(QuoteOutputSerializer):
    lines = QuoteLineOutputSerializer(many=True, read_only=True, source="sheet_lines")

    class Meta(QuoteOutputSerializer.Meta):
        fields = [*QuoteOutputSerializer.Meta.fields, "lines"]
        read_only_fields = fields


class _QuoteCreateSerializer(InputSerializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_id = serializers.IntegerField(required=False, allow_null=True, help_text="A person at the company.")
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, help_text="ISO 4217 code, e.g. USD.")
    valid_until = serializers.DateField(required=False, allow_null=True)
    payment_terms = serializers.CharField(max_length=200, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    terms = serializers.CharField(max_length=20_000, required=False, allow_blank=True)

    def validate(self, data: dict) -> dict:
        """Ids checked through the owners' facades, with the API's "No … has the id" message."""
        lead_id, customer_id, contact_id = data.get("lead_id"), data.get("customer_id"), data.get("contact_id")
        if lead_id is not None:
            lead = leads.lead_summary(lead_id=lead_id)
            if lead is None:
                raise serializers.ValidationError({"lead_id": f"No lead has the id {lead_id} in this workspace."})
            customer_id = customer_id or lead.customer_id
        if customer_id is not None and customers.customer_name(customer_id=customer_id) is None:
            raise serializers.ValidationError(
                {"customer_id": f"No customer has the id {customer_id} in this workspace."}
            )
        if contact_id is not None:
            works_at = customers.contact_customer_id(contact_id=contact_id)
            if works_at is None or (customer_id is not None and works_at != customer_id):
                where = "at the quote's company" if works_at is not None else "in this workspace"
                raise serializers.ValidationError({"contact_id": f"No contact has the id {contact_id} {where}."})
        return data


class QuoteCreateSerializer(_QuoteCreateSerializer):
    customer_id = serializers.IntegerField(help_text="The company the quote is for.")
    lead_id = serializers.IntegerField(required=False, allow_null=True, help_text="The lead the quote answers.")


class QuoteFromLeadSerializer(_QuoteCreateSerializer):
    lead_id = serializers.IntegerField(help_text="The lead the quote answers; its company and contact are used.")
    customer_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="The company, when the lead has none yet."
    )


class QuoteUpdateSerializer(InputSerializer):
    version = serializers.IntegerField(min_value=1, help_text="The version the change is based on.")
    title = serializers.CharField(max_length=200, required=False)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False)
    valid_until = serializers.DateField(required=False, allow_null=True)
    payment_terms = serializers.CharField(max_length=200, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    terms = serializers.CharField(max_length=20_000, required=False, allow_blank=True)


def _amount(digits: int, places: int, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=digits, decimal_places=places, min_value=Decimal(0), required=False, **kwargs
    )


class QuoteLineInputSerializer(InputSerializer):
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="The quote's version the change is based on."
    )
    description = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    quantity = _amount(12, 3)
    unit_price = _amount(14, 4)
    discount = _amount(5, 2, max_value=Decimal(100))
    tax_rate = _amount(5, 2, max_value=Decimal(100))
    optional = serializers.BooleanField(required=False)
    selected = serializers.BooleanField(required=False, help_text="For an optional line: the customer ticked it.")


class QuoteLineCreateSerializer(QuoteLineInputSerializer):
    kind = serializers.ChoiceField(choices=LineKind.choices, required=False, default=LineKind.ITEM)
    product_id = serializers.PrimaryKeyRelatedField(
        source="product",
        queryset=Product.objects.active(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "No active product has the id {pk_value} in this workspace."},
        help_text="A catalog product: its price in the quote's currency, tax, unit and description.",
    )
    position = serializers.IntegerField(min_value=0, required=False, help_text="0 for the top; the end when left out.")


class QuoteStatusSerializer(InputSerializer):
    status = serializers.ChoiceField(choices=QuoteStatus.choices)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, help_text="Required to decline.")
    version = serializers.IntegerField(min_value=1, required=False)


# --- The copilot (quotes.copilot): what it found, each item with the AI run to give feedback on ---------------


class CopilotRiskSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="missing_line, discount_high, margin_low, below_cost, validity_missing, "
                                 "validity_short or vague")  # fmt: skip
    message = serializers.CharField()
    rule = serializers.CharField(help_text="The rule that fired, in words.")
    figure = serializers.CharField(help_text="The figure behind it.")
    line_id = serializers.IntegerField(allow_null=True)
    product_id = serializers.IntegerField(allow_null=True, help_text="A missing product, to add.")
    run_id = serializers.IntegerField(allow_null=True)


class CopilotScopeSerializer(serializers.Serializer):
    summary = serializers.CharField()
    risks = CopilotRiskSerializer(many=True)


class CopilotQuestionSerializer(serializers.Serializer):
    text = serializers.CharField()
    because = serializers.CharField()
    run_id = serializers.IntegerField(allow_null=True)


# Where a copilot suggestion comes from: association rules, catalog similarity, or popularity.
SUGGESTION_SOURCES = ("rules", "similar", "popular")


class CopilotSuggestionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["upsell", "cross_sell"])
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField(allow_blank=True)
    unit_price = serializers.CharField(allow_null=True, help_text="In the quote's currency.")
    source = serializers.ChoiceField(choices=SUGGESTION_SOURCES)
    reason = serializers.CharField()
    confidence = serializers.FloatField(allow_null=True)
    lift = serializers.FloatField(allow_null=True)
    run_id = serializers.IntegerField(allow_null=True)


class CopilotWritingSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["summary", "email"])
    text = serializers.CharField(allow_blank=True)
    subject = serializers.CharField(allow_blank=True)
    by = serializers.CharField(help_text='"template", or the generative model that wrote it (checked).')
    run_id = serializers.IntegerField(allow_null=True)
    refused = serializers.ListField(child=serializers.CharField(), help_text="Why a generated text was refused.")


@extend_schema_serializer(component_name="QuoteCopilot")
class QuoteCopilotSerializer(serializers.Serializer):
    scope = CopilotScopeSerializer()
    questions = CopilotQuestionSerializer(many=True)
    upsells = CopilotSuggestionSerializer(many=True)
    cross_sells = CopilotSuggestionSerializer(many=True)
    summary = CopilotWritingSerializer()
    email = CopilotWritingSerializer()
