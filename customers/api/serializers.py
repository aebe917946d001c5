"""API shapes for customers and contacts: output serializers say what we return, input ones what we accept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.api.errors import Conflict
from core.api.serializers import InputSerializer

from ..models import Contact, Customer, Note, Task
from ..selectors import contact_email_taken
from ..validators import MAX_TAG_LENGTH, MAX_TAGS, normalize_domain, normalize_phone, normalize_tags

# What the API accepts, written as the regexes the schema shows: each is a part of what the services accept (the
# pages and imports are more forgiving: a URL or an e-mail address for a domain, any separators in a phone).
DOMAIN = RegexValidator(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$",
    "Send a domain name like acme.com (no https://, path or e-mail address).",
)
PHONE = RegexValidator(
    r"^\+?(?:(?:[ ().-]*[0-9]){5,20}[ ().-]*|(?:[ ().-]*[0-9]){5,14}[ ().-]* ?(?:x|ext\.?) ?[0-9]{1,6})$",
    "Send a phone number: 5 to 20 digits, with spaces and + ( ) . - if you like, and an extension as “x12”.",
)


def _django_validator(function: Callable[[Any], Any], value: Any) -> Any:
    try:
        return function(value)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from None


class OwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)


class HealthDriverSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True, help_text="volume, sentiment, sla, csat, urgent or contact.")
    label = serializers.CharField(read_only=True)
    points = serializers.IntegerField(read_only=True, help_text="What it adds to (or takes from) the neutral 50.")
    value = serializers.CharField(read_only=True, help_text="The measure, shortly: “2.5×”, “4.2/5”, “12 d”.")
    explanation = serializers.CharField(read_only=True)
    has_data = serializers.BooleanField(read_only=True, help_text="False: not enough data, 0 points.")


class HealthSummarySerializer(serializers.Serializer):
    score = serializers.IntegerField(
        source="health_score", read_only=True, allow_null=True, help_text="0–100; null until scored."
    )
    band = serializers.ChoiceField(
        source="health_band", choices=Customer.HealthBand.choices, read_only=True, allow_blank=True
    )
    updated = serializers.DateTimeField(source="health_updated", read_only=True, allow_null=True)
    drivers = HealthDriverSerializer(source="health_drivers", many=True, read_only=True)


class ChurnSummarySerializer(serializers.Serializer):
    churned_at = serializers.DateField(read_only=True, allow_null=True, help_text="Null while still a customer.")
    reason = serializers.CharField(source="churn_reason", read_only=True)
    risk = serializers.FloatField(
        source="churn_risk", read_only=True, allow_null=True, help_text="0–1; null when churned or not computed."
    )
    source = serializers.CharField(
        source="churn_risk_source", read_only=True, help_text="“heuristic” or the model version that computed it."
    )
    drivers = serializers.ListField(
        source="churn_drivers", child=serializers.CharField(), read_only=True, help_text="Why, in words."
    )


@extend_schema_serializer(component_name="Customer")
class CustomerOutputSerializer(serializers.ModelSerializer):
    owner = OwnerSerializer(read_only=True, allow_null=True)
    contact_count = serializers.IntegerField(read_only=True, help_text="How many contacts the customer has.")
    health = HealthSummarySerializer(source="*", read_only=True, help_text="The latest health score and its drivers.")
    churn = ChurnSummarySerializer(source="*", read_only=True, help_text="Whether it churned, else its churn risk.")

    class Meta:
        model = Customer
        fields = [
            "id", "name", "domain", "industry", "tier", "owner", "tags", "contact_count", "health", "churn", "created",
            "updated",
        ]  # fmt: skip
        read_only_fields = fields


class HealthSnapshotSerializer(serializers.Serializer):
    day = serializers.DateField(read_only=True)
    at = serializers.DateTimeField(read_only=True)
    score = serializers.IntegerField(read_only=True)
    band = serializers.ChoiceField(choices=Customer.HealthBand.choices, read_only=True)
    drivers = HealthDriverSerializer(many=True, read_only=True)


@extend_schema_serializer(component_name="CustomerHealth")
class CustomerHealthOutputSerializer(HealthSummarySerializer):
    customer_id = serializers.IntegerField(source="pk", read_only=True)
    history = HealthSnapshotSerializer(many=True, read_only=True, help_text="One score a day, oldest first (90 days).")


class CustomerInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=200)
    domain = serializers.CharField(
        max_length=253,
        required=False,
        allow_blank=True,
        validators=[DOMAIN],
        help_text="e.g. acme.com; stored in lower case, without “www.”.",
    )
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tier = serializers.ChoiceField(choices=Customer.Tier.choices, required=False)
    owner_id = serializers.PrimaryKeyRelatedField(
        source="owner",
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "No active teammate has the id {pk_value}."},
        help_text="Id of the teammate who owns the relationship; null for nobody.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=MAX_TAG_LENGTH), required=False, max_length=MAX_TAGS
    )

    def validate_name(self, value: str) -> str:
        return value.strip()

    def validate_domain(self, value: str) -> str:
        return _django_validator(normalize_domain, value)

    def validate_tags(self, value: list[str]) -> list[str]:
        return _django_validator(normalize_tags, value)


class ContactCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    domain = serializers.CharField(read_only=True)


@extend_schema_serializer(component_name="Contact")
class ContactOutputSerializer(serializers.ModelSerializer):
    customer = ContactCustomerSerializer(read_only=True)
    # Text, not format "email": a contact's address may be unknown ("").
    email = serializers.CharField(read_only=True, help_text="E-mail address; empty if unknown.")

    class Meta:
        model = Contact
        fields = ["id", "customer", "name", "title", "email", "phone", "created", "updated"]
        read_only_fields = fields


class ContactUpdateSerializer(InputSerializer):
    name = serializers.CharField(max_length=200)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    email = serializers.EmailField(
        max_length=254,
        required=False,
        allow_blank=True,
        help_text="Unique among the customer's contacts (409 if taken).",
    )
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, validators=[PHONE])

    def validate_name(self, value: str) -> str:
        return value.strip()

    def validate_phone(self, value: str) -> str:
        return _django_validator(normalize_phone, value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        customer = attrs.get("customer") or self.context.get("customer")
        email = (attrs.get("email") or "").lower()
        if email:
            attrs["email"] = email
            exclude_id = self.context.get("contact_id")
            if customer is not None and contact_email_taken(customer=customer, email=email, exclude_id=exclude_id):
                # Well-formed, but taken: a conflict with what exists, like a ticket's stale version.
                raise Conflict(f"{email} is already a contact at {customer.name}.")
        return attrs


class ContactCreateSerializer(ContactUpdateSerializer):
    customer_id = serializers.PrimaryKeyRelatedField(
        source="customer",
        queryset=Customer.objects.all(),
        error_messages={"does_not_exist": "No customer has the id {pk_value} in this workspace."},
        help_text="The company this person works for.",
    )


# --- Timeline, notes and tasks ------------------------------------------------------------------


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text="The activity type, e.g. ticket_opened, note, csat.")
    id = serializers.IntegerField(read_only=True, help_text="The id of the row behind the entry, within its kind.")
    title = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True, help_text="Where the entry is shown in the app (a path).")
    actor = serializers.CharField(read_only=True, help_text="Who did it; empty if unknown.")
    source_app = serializers.CharField(read_only=True)


class TimelinePageSerializer(serializers.Serializer):
    next = serializers.CharField(read_only=True, allow_null=True, help_text="The next (older) page; null at the end.")
    previous = serializers.CharField(read_only=True, allow_null=True, help_text="Always null: pages go back in time.")
    results = TimelineEntrySerializer(many=True, read_only=True)


@extend_schema_serializer(component_name="Note")
class NoteOutputSerializer(serializers.ModelSerializer):
    author = OwnerSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Note
        fields = ["id", "customer_id", "contact_id", "body", "pinned", "author", "created", "updated"]
        read_only_fields = fields


class NoteInputSerializer(InputSerializer):
    body = serializers.CharField(max_length=20_000, help_text="Markdown.")
    pinned = serializers.BooleanField(required=False, default=False)


class NoteUpdateSerializer(InputSerializer):
    body = serializers.CharField(max_length=20_000, required=False, help_text="Markdown.")
    pinned = serializers.BooleanField(required=False)


@extend_schema_serializer(component_name="Task")
class TaskOutputSerializer(serializers.ModelSerializer):
    owner = OwnerSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = [
            "id", "customer_id", "contact_id", "title", "owner", "due_at", "reminder_at", "done", "done_at",
            "created", "updated",
        ]  # fmt: skip
        read_only_fields = fields


class TaskInputSerializer(InputSerializer):
    title = serializers.CharField(max_length=200)
    owner_id = serializers.PrimaryKeyRelatedField(
        source="owner",
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "No active teammate has the id {pk_value}."},
        help_text="Who does it; the caller when left out or null.",
    )
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    reminder_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the owner is emailed a reminder; not after due_at."
    )


class TaskUpdateSerializer(TaskInputSerializer):
    title = serializers.CharField(max_length=200, required=False)
    done = serializers.BooleanField(required=False, help_text="true completes the task, false reopens it.")
