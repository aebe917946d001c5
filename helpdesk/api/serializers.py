"""API shapes for tickets, their messages, knowledge-base articles and SLA policies.

Output serializers say what we return, input ones what we accept; the services keep the rules that hold however
data arrives (empty texts, attachment limits, tags, versions) and answer with field messages of their own.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api.serializers import FormDataSerializer, InputSerializer
from customers.facade import CUSTOMER_TIER_CHOICES, contact_queryset

from ..models import (
    Article,
    ArticleCategory,
    Attachment,
    BusinessCalendar,
    Category,
    SLAPolicy,
    Team,
    Ticket,
    TicketMessage,
)
from ..selectors.tickets import assignable_agents
from ..services.kb import MAX_BODY as MAX_ARTICLE
from ..services.tickets import MAX_BODY, MAX_SUBJECT
from ..validators import MAX_TAGS

TAG_LENGTH = 40


def _not_found(thing: str) -> dict[str, str]:
    return {"does_not_exist": f"No {thing} has the id {{pk_value}} in this workspace.", "incorrect_type": "Send an id."}


def _tags_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=TAG_LENGTH), max_length=MAX_TAGS, required=False, **kwargs
    )


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    # Text, not format "email": a requester known by name only has none ("").
    email = serializers.CharField(read_only=True, help_text="E-mail address; empty if unknown.")


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


# --- Tickets --------------------------------------------------------------------------------------------


class TicketSLASerializer(serializers.Serializer):
    policy_id = serializers.IntegerField(source="sla_policy_id", read_only=True, allow_null=True)
    first_response_due = serializers.DateTimeField(read_only=True, allow_null=True)
    first_responded_at = serializers.DateTimeField(read_only=True, allow_null=True)
    next_response_due = serializers.DateTimeField(read_only=True, allow_null=True)
    resolution_due = serializers.DateTimeField(read_only=True, allow_null=True)
    due_at = serializers.DateTimeField(
        source="sla_due_at", read_only=True, allow_null=True, help_text="The nearest due time not met yet."
    )
    paused_at = serializers.DateTimeField(
        source="sla_paused_at", read_only=True, allow_null=True, help_text="Set while pending or on hold."
    )
    breached = serializers.BooleanField(source="sla_breached", read_only=True)
    warned = serializers.BooleanField(source="sla_warned", read_only=True)
    breach_risk = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Predicted probability (0–1) of missing a target."
    )


@extend_schema_serializer(component_name="TicketSummary")
class TicketOutputSerializer(serializers.ModelSerializer):
    """A ticket as lists show it (no long texts)."""

    number = serializers.IntegerField(source="pk", read_only=True, help_text="The ticket number (#42).")
    category = NamedSerializer(read_only=True, allow_null=True)
    requester = PersonSerializer(read_only=True)
    customer = NamedSerializer(read_only=True)
    assignee = PersonSerializer(read_only=True, allow_null=True)
    team = NamedSerializer(read_only=True, allow_null=True)
    sla = TicketSLASerializer(source="*", read_only=True)
    merged_into_id = serializers.IntegerField(read_only=True, allow_null=True)
    version = serializers.IntegerField(
        read_only=True, help_text="Send it back with a change: a change based on an older version is refused (409)."
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "status",
            "priority",
            "type",
            "channel",
            "category",
            "requester",
            "customer",
            "assignee",
            "team",
            "tags",
            "sla",
            "sentiment",
            "language",
            "merged_into_id",
            "version",
            "created",
            "updated",
            "solved_at",
            "closed_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(component_name="Ticket")
class TicketDetailOutputSerializer(TicketOutputSerializer):
    description = serializers.CharField(source="original_description", read_only=True, help_text="As typed.")
    improved_description = serializers.CharField(
        read_only=True, help_text="The AI rewrite an agent accepted; empty if none."
    )

    class Meta(TicketOutputSerializer.Meta):
        fields = [
            *TicketOutputSerializer.Meta.fields,
            "description",
            "improved_description",
            "ai_analysis_status",
            "ai_analysis_date",
        ]
        read_only_fields = fields


class _TicketFields(InputSerializer):
    """What a ticket's creator and its editors may set."""

    subject = serializers.CharField(max_length=MAX_SUBJECT, error_messages={"blank": "The subject cannot be empty."})
    description = serializers.CharField(
        max_length=MAX_BODY, error_messages={"blank": "The description cannot be empty."}
    )
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, required=False)
    type = serializers.ChoiceField(choices=Ticket.Type.choices, required=False)
    category_id = serializers.PrimaryKeyRelatedField(
        source="category",
        queryset=Category.objects.all(),
        required=False,
        allow_null=True,
        error_messages=_not_found("category"),
    )
    team_id = serializers.PrimaryKeyRelatedField(
        source="team", queryset=Team.objects.all(), required=False, allow_null=True, error_messages=_not_found("team")
    )
    tags = _tags_field()


class TicketCreateSerializer(_TicketFields):
    """A new ticket as JSON (files come with multipart/form-data: TicketCreateFormSerializer)."""

    requester_id = serializers.PrimaryKeyRelatedField(
        source="requester",
        queryset=contact_queryset(),
        required=False,
        error_messages=_not_found("contact"),
        help_text="An existing contact; or send requester_email.",
    )
    requester_email = serializers.EmailField(
        max_length=254, required=False, help_text="Who the ticket is for; an unknown address becomes a new contact."
    )
    requester_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices, default=Ticket.Channel.API)
    assignee_id = serializers.PrimaryKeyRelatedField(
        source="assignee",
        queryset=assignable_agents(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "No active teammate who works tickets has the id {pk_value}."},
        help_text="Empty: the workspace's automatic assignment decides.",
    )

    class Meta:
        require_one_of = ["requester_id", "requester_email"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("requester") is None and not attrs.get("requester_email"):
            raise serializers.ValidationError(
                {"requester_email": ["Say who the ticket is for: a requester_email or a requester_id."]}
            )
        return attrs


class TicketCreateFormSerializer(FormDataSerializer, TicketCreateSerializer):
    """A new ticket as multipart/form-data, with files."""

    attachments = serializers.ListField(child=serializers.FileField(), required=False, help_text="Files to attach.")


class TicketUpdateSerializer(_TicketFields):
    """Only the fields sent change; with nothing but the version, nothing changes (409 all the same if stale)."""

    subject = serializers.CharField(
        max_length=MAX_SUBJECT, required=False, error_messages={"blank": "The subject cannot be empty."}
    )
    description = serializers.CharField(
        max_length=MAX_BODY, required=False, error_messages={"blank": "The description cannot be empty."}
    )
    version = serializers.IntegerField(
        min_value=1,
        help_text="The version you read. If the ticket changed since, nothing is saved (409).",
        error_messages={"required": "Send the version you read, so no one's change is overwritten."},
    )

    class Meta:
        required_in_patch = ["version"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "description" in attrs:
            attrs["original_description"] = attrs.pop("description")
        return attrs


class TicketStatusOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "status", "version", "solved_at", "closed_at"]
        read_only_fields = fields


class TicketAssignmentOutputSerializer(serializers.ModelSerializer):
    assignee = PersonSerializer(read_only=True, allow_null=True)
    team = NamedSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Ticket
        fields = ["id", "assignee", "team", "version"]
        read_only_fields = fields


class TicketStatusSerializer(InputSerializer):
    status = serializers.ChoiceField(choices=Ticket.Status.choices)
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="Optional: refuse (409) if the ticket changed since this version."
    )


class TicketAssignSerializer(InputSerializer):
    assignee_id = serializers.PrimaryKeyRelatedField(
        source="assignee",
        queryset=assignable_agents(),
        allow_null=True,
        error_messages={"does_not_exist": "No active teammate who works tickets has the id {pk_value}."},
        help_text="The teammate who takes it; null leaves it unassigned.",
    )
    team_id = serializers.PrimaryKeyRelatedField(
        source="team",
        queryset=Team.objects.all(),
        required=False,
        error_messages=_not_found("team"),
        help_text="Optional: move it to this team too.",
    )
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="Optional: refuse (409) if the ticket changed since this version."
    )


# --- Messages -------------------------------------------------------------------------------------------


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Downloads the file (same authentication as the API).")

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "url"]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_url(self, attachment: Attachment) -> str:
        path = reverse("helpdesk_api:attachment_download", kwargs={"attachment_id": attachment.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


@extend_schema_serializer(component_name="TicketMessage")
class MessageOutputSerializer(serializers.ModelSerializer):
    author = PersonSerializer(read_only=True, allow_null=True, help_text="The agent who wrote it, if one did.")
    author_contact = PersonSerializer(read_only=True, allow_null=True, help_text="The requester, if they wrote it.")
    from_customer = serializers.BooleanField(read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketMessage
        fields = [
            "id",
            "kind",
            "body",
            "channel",
            "author",
            "author_contact",
            "from_customer",
            "attachments",
            "created",
        ]
        read_only_fields = fields


class MessageCreateSerializer(InputSerializer):
    """A reply or note as JSON (files come with multipart/form-data: MessageCreateFormSerializer)."""

    body = serializers.CharField(max_length=MAX_BODY, error_messages={"blank": "The message cannot be empty."})
    kind = serializers.ChoiceField(
        choices=TicketMessage.Kind.choices, default=TicketMessage.Kind.REPLY, help_text="reply (public) or note."
    )
    status = serializers.ChoiceField(
        choices=Ticket.Status.choices, required=False, help_text="Optional: set the ticket's status in the same step."
    )


class MessageCreateFormSerializer(FormDataSerializer, MessageCreateSerializer):
    """A reply or note as multipart/form-data, with files."""

    attachments = serializers.ListField(child=serializers.FileField(), required=False, help_text="Files to attach.")


# --- Knowledge base -------------------------------------------------------------------------------------


@extend_schema_serializer(component_name="Article")
class ArticleOutputSerializer(serializers.ModelSerializer):
    category = NamedSerializer(read_only=True, allow_null=True)
    author = PersonSerializer(read_only=True, allow_null=True)
    score = serializers.SerializerMethodField(help_text="Relevance 0–1 when searching (q), else null.")
    matched_by = serializers.SerializerMethodField(help_text="“semantic” or “keyword” when searching, else null.")

    class Meta:
        model = Article
        fields = [
            "id",
            "title",
            "slug",
            "body",
            "status",
            "visibility",
            "category",
            "tags",
            "author",
            "ai_generated",
            "view_count",
            "helpful_yes",
            "helpful_no",
            "created",
            "updated",
            "published_at",
            "score",
            "matched_by",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_score(self, article: Article) -> float | None:
        match = getattr(article, "match", None)
        return match.score if match is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_matched_by(self, article: Article) -> str | None:
        match = getattr(article, "match", None)
        return match.reason if match is not None else None


# A slug exactly as the knowledge base keeps it (django.utils.text.slugify leaves it unchanged): letters, digits,
# "_" and single hyphens, starting and ending with a letter or digit.
ARTICLE_SLUG = RegexValidator(
    r"^[A-Za-z0-9](?:(?:-?[A-Za-z0-9_])*-?[A-Za-z0-9])?$",
    "Use letters, digits, “_” and single hyphens, starting and ending with a letter or digit, e.g. “reset-password”.",
)


class ArticleInputSerializer(InputSerializer):
    title = serializers.CharField(max_length=200, error_messages={"blank": "The title cannot be empty."})
    body = serializers.CharField(
        max_length=MAX_ARTICLE, error_messages={"blank": "The article cannot be empty."}, help_text="Markdown."
    )
    slug = serializers.CharField(
        max_length=220,
        required=False,
        allow_blank=True,
        validators=[ARTICLE_SLUG],
        help_text="Stored in lower case; empty: made from the title. Unique (409 if taken).",
    )
    status = serializers.ChoiceField(choices=Article.Status.choices, required=False)
    visibility = serializers.ChoiceField(choices=Article.Visibility.choices, required=False)
    category_id = serializers.PrimaryKeyRelatedField(
        source="category",
        queryset=ArticleCategory.objects.all(),
        required=False,
        allow_null=True,
        error_messages=_not_found("article category"),
    )
    tags = _tags_field()


# --- SLA policies ---------------------------------------------------------------------------------------


@extend_schema_serializer(component_name="SLAPolicy")
class SLAPolicyOutputSerializer(serializers.ModelSerializer):
    calendar = NamedSerializer(read_only=True, allow_null=True)
    breach_reassign_team = NamedSerializer(read_only=True, allow_null=True)

    class Meta:
        model = SLAPolicy
        fields = [
            "id",
            "name",
            "position",
            "active",
            "priority",
            "customer_tier",
            "channel",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "calendar",
            "warn_at_percent",
            "breach_reassign_team",
        ]
        read_only_fields = fields


def _any(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", "Any"), *choices]


# A year of minutes: a longer target could not be scheduled (and is surely a typo).
MAX_TARGET_MINUTES = 366 * 24 * 60


class SLAPolicyInputSerializer(InputSerializer):
    name = serializers.CharField(
        max_length=100, error_messages={"blank": "The name cannot be empty."}, help_text="Unique (409 if taken)."
    )
    active = serializers.BooleanField(required=False)
    priority = serializers.ChoiceField(choices=_any(Ticket.Priority.choices), required=False, allow_blank=True)
    customer_tier = serializers.ChoiceField(choices=_any(CUSTOMER_TIER_CHOICES), required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=_any(Ticket.Channel.choices), required=False, allow_blank=True)
    first_response_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_TARGET_MINUTES, help_text="Business minutes."
    )
    next_response_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_TARGET_MINUTES, required=False, allow_null=True
    )
    resolution_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_TARGET_MINUTES, help_text="Business minutes."
    )
    calendar_id = serializers.PrimaryKeyRelatedField(
        source="calendar",
        queryset=BusinessCalendar.objects.all(),
        required=False,
        allow_null=True,
        error_messages=_not_found("calendar"),
    )
    warn_at_percent = serializers.IntegerField(min_value=10, max_value=99, required=False)
    breach_reassign_team_id = serializers.PrimaryKeyRelatedField(
        source="breach_reassign_team",
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        error_messages=_not_found("team"),
    )

    def validate_name(self, value: str) -> str:
        return value.strip()
