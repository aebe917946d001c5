"""Forms of the agent workspace: list query strings, new ticket, field edits, replies, bulk actions, saved views.

Forms parse and label input; the writes and their rules live in helpdesk.services (their ValidationErrors are
put back on the matching fields with `add_service_errors`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from core.day_ranges import DayRange, day_field
from core.forms import BootstrapFormMixin, id_or_words_validator
from core.saved_views import SavedViewForm as BaseSavedViewForm
from core.uploads import KINDS as UPLOAD_KINDS
from customers.facade import CUSTOMER_TIER_CHOICES

from .models import Category, Team, Ticket, TicketMessage
from .selectors import tickets as selectors
from .selectors.tickets import DONE, SORT_KEYS, UNSOLVED, TicketFilters
from .validators import normalize_tags

STATUS_FILTER_CHOICES = [
    ("", "Any status"),
    (UNSOLVED, "Unsolved (new, open, pending, on hold)"),
    (DONE, "Solved or closed"),
    *Ticket.Status.choices,
]
# Query-string keys a list (and a saved view) is made of; the cursor is a position, not a filter.
LIST_PARAMS = ("q", "status", "priority", "assignee", "team", "category", "channel", "tag", "customer", "requester")
# The day ranges a dashboard's figure drills down through (and a person can set in the list's "Dates").
DAY_RANGES = (
    DayRange("Created", "created_from", "created_to"),
    DayRange("Solved", "solved_from", "solved_to"),
    DayRange("First response", "responded_from", "responded_to"),
    DayRange("CSAT answered", "csat_from", "csat_to"),
)
DRILL_PARAMS = (
    *(key for each in DAY_RANGES for key in (each.start, each.end)),
    "tier",
    "csat",
    "rating",
)
VIEW_PARAMS = (*LIST_PARAMS, *DRILL_PARAMS, "sla", "sort")


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; size and type rules are the service's (helpdesk.validators)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ",".join(UPLOAD_KINDS)}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


def _id_or_word(value: str, words: set[str], label: str) -> str:
    value = (value or "").strip().lower()
    if value and value not in words and not value.isdigit():
        raise ValidationError(f"Use {label}.", code="invalid")
    return value


def _sort_choices() -> list[tuple[str, str]]:
    return [(value, value) for field in SORT_KEYS for value in (field, f"-{field}")]


# --- List query ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    filters: TicketFilters
    sort: str
    cursor: str
    # The valid, non-empty parameters (no cursor), in VIEW_PARAMS order: what a saved view stores.
    params: dict[str, str]


class TicketFilterForm(forms.Form):
    """The ticket list's query string (and a saved view's filters). Invalid values are ignored, never a 500."""

    q = forms.CharField(
        required=False, max_length=200, help_text="Full text (subject, description, messages) or #number."
    )
    status = forms.ChoiceField(
        required=False, choices=STATUS_FILTER_CHOICES, help_text="A status, “unsolved” or “done”."
    )
    priority = forms.ChoiceField(required=False, choices=[("", "Any priority"), *Ticket.Priority.choices])
    assignee = forms.CharField(
        required=False,
        help_text="A teammate's id, “me” or “none”.",
        validators=[id_or_words_validator("me", "none", message="Use a teammate's id, “me” or “none”.")],
    )
    team = forms.CharField(
        required=False,
        help_text="A team's id or “none”.",
        validators=[id_or_words_validator("none", message="Use a team's id or “none”.")],
    )
    category = forms.IntegerField(required=False, min_value=1)
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *Ticket.Channel.choices])
    tag = forms.CharField(required=False, max_length=40)
    customer = forms.IntegerField(required=False, min_value=1, help_text="A customer's id.")
    requester = forms.IntegerField(required=False, min_value=1, help_text="A contact's id.")
    sla = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), ("breaching", "Breaching soon"), ("breached", "SLA breached")],
        help_text="breaching: open and due within 2 hours or breached; breached: an SLA policy's target was missed.",
    )
    created_from = day_field("Created on or after")
    created_to = day_field("Created on or before")
    solved_from = day_field("Solved (or closed) on or after")
    solved_to = day_field("Solved (or closed) on or before")
    responded_from = day_field("First response on or after")
    responded_to = day_field("First response on or before")
    csat_from = day_field("Satisfaction answered on or after")
    csat_to = day_field("Satisfaction answered on or before")
    tier = forms.ChoiceField(
        required=False,
        choices=[("", "Any tier"), ("none", "No company"), *CUSTOMER_TIER_CHOICES],
        help_text="The requester's company's tier, or “none” for tickets without a company.",
    )
    csat = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), ("answered", "Satisfaction answered")],
        help_text="answered: the customer answered the satisfaction survey.",
    )
    rating = forms.IntegerField(
        required=False, min_value=1, max_value=5, help_text="Satisfaction answered with this rating (1-5)."
    )
    sort = forms.ChoiceField(
        required=False,
        choices=_sort_choices(),
        help_text="A leading “-” reverses. Default: -created (newest first); -relevance when searching.",
    )
    cursor = forms.CharField(required=False)

    def clean_assignee(self) -> str:
        return _id_or_word(self.cleaned_data.get("assignee", ""), {"me", "none"}, "a teammate's id, “me” or “none”")

    def clean_team(self) -> str:
        return _id_or_word(self.cleaned_data.get("team", ""), {"none"}, "a team's id or “none”")

    def clean_tag(self) -> str:
        tags = normalize_tags([self.cleaned_data.get("tag", "")])
        return tags[0] if tags else ""

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data.get("q", "").split())

    def query(self, *, user) -> ListQuery:
        self.is_valid()  # fields with bad values are left out of cleaned_data, i.e. not filtered on
        data = self.cleaned_data
        assignee, team = data.get("assignee", ""), data.get("team", "")
        filters = TicketFilters(
            q=data.get("q", ""),
            status=data.get("status", ""),
            priority=data.get("priority", ""),
            assignee_id=user.pk if assignee == "me" else int(assignee) if assignee.isdigit() else None,
            unassigned=assignee == "none",
            team_id=int(team) if team.isdigit() else None,
            no_team=team == "none",
            category_id=data.get("category"),
            channel=data.get("channel", ""),
            tag=data.get("tag", ""),
            customer_id=data.get("customer"),
            requester_id=data.get("requester"),
            breaching=data.get("sla") == "breaching",
            sla_breached=data.get("sla") == "breached",
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            solved_from=data.get("solved_from"),
            solved_to=data.get("solved_to"),
            responded_from=data.get("responded_from"),
            responded_to=data.get("responded_to"),
            csat_from=data.get("csat_from"),
            csat_to=data.get("csat_to"),
            csat_answered=data.get("csat") == "answered",
            rating=data.get("rating"),
            tier="" if data.get("tier") == "none" else data.get("tier", ""),
            no_tier=data.get("tier") == "none",
        )
        params = {name: str(data[name]) for name in VIEW_PARAMS if data.get(name) not in (None, "")}
        return ListQuery(filters=filters, sort=data.get("sort", ""), cursor=data.get("cursor", ""), params=params)


def list_query(params: Mapping[str, Any], *, user) -> ListQuery:
    return TicketFilterForm(params).query(user=user)


# --- New ticket ---------------------------------------------------------------------------------


class TicketCreateForm(BootstrapFormMixin, forms.Form):
    # Emptiness and length are the service's rules (one wording everywhere: page, API, help center).
    subject = forms.CharField(required=False, max_length=1000, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}))
    requester_email = forms.CharField(
        required=False,
        label="Requester's email",
        help_text="Someone new becomes a contact of the company their address belongs to.",
        widget=forms.EmailInput(
            attrs={"autocomplete": "off", "list": "requester-options", "placeholder": "jane@acme.com"}
        ),
    )
    requester_name = forms.CharField(required=False, max_length=200, label="Requester's name (if new)")
    priority = forms.ChoiceField(choices=Ticket.Priority.choices, initial=Ticket.Priority.NORMAL)
    type = forms.ChoiceField(choices=Ticket.Type.choices, initial=Ticket.Type.QUESTION)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False, empty_label="No category")
    assignee = AgentChoiceField(queryset=Ticket.objects.none(), required=False, empty_label="Unassigned")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="No team")
    tags = forms.CharField(required=False, max_length=1000, help_text="Separate tags with commas: billing, vip.")
    attachments = MultipleFileField(label="Attachments")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.all()
        self.fields["team"].queryset = Team.objects.all()
        self.fields["assignee"].queryset = selectors.assignable_agents()
        self.style_fields()

    def clean_tags(self) -> list[str]:
        return normalize_tags(self.cleaned_data.get("tags", ""))

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


# --- Editing a ticket's fields ------------------------------------------------------------------

# Field → the service that changes it (helpdesk.services.tickets).
UPDATE_FIELDS = ("subject", "priority", "type", "category", "team", "tags")


class TicketEditForm(BootstrapFormMixin, forms.Form):
    """The ticket header: every field optional, and only the fields present in the request are changed, so one
    select can save itself alone. `version` is the version the editor saw (optimistic locking)."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    subject = forms.CharField(required=False, max_length=1000)
    status = forms.ChoiceField(required=False, choices=Ticket.Status.choices)
    priority = forms.ChoiceField(required=False, choices=Ticket.Priority.choices)
    type = forms.ChoiceField(required=False, choices=Ticket.Type.choices)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    assignee = forms.CharField(required=False)
    tags = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["category"].queryset = Category.objects.all()
        self.fields["team"].queryset = Team.objects.all()

    def clean_assignee(self):
        value = self.cleaned_data.get("assignee", "").strip().lower()
        if value in {"", "none"}:
            return None
        if value == "me":
            return self.user
        agent = selectors.assignable_agents().filter(pk=int(value)).first() if value.isdigit() else None
        if agent is None:
            raise ValidationError("Choose a teammate who works tickets.", code="invalid")
        return agent

    def clean_tags(self) -> list[str]:
        return normalize_tags(self.cleaned_data.get("tags", ""))

    def submitted(self) -> dict[str, Any]:
        """The cleaned values of the fields the request carried (a missing field is left as it is)."""
        return {name: self.cleaned_data[name] for name in self.fields if name != "version" and name in self.data}

    def submitted_labels(self) -> list[tuple[str, str]]:
        """What the person tried to change, in words, for the "someone else changed it" notice."""
        labels = []
        for name, value in self.submitted().items():
            label = self.fields[name].label or name.replace("_", " ").capitalize()
            if isinstance(value, list):
                shown = ", ".join(value) or "none"
            elif name in {"status", "priority", "type"}:
                shown = dict(self.fields[name].choices).get(value, value)
            else:
                shown = str(value) if value not in (None, "") else "none"
            labels.append((label, shown))
        return labels


# --- Reply / note -------------------------------------------------------------------------------


class ReplyForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(choices=TicketMessage.Kind.choices, initial=TicketMessage.Kind.REPLY)
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}))
    # Send and set the status in one step ("send and set pending"); empty keeps it.
    status = forms.ChoiceField(required=False, choices=[("", "Keep status"), *Ticket.Status.choices])
    attachments = MultipleFileField(label="Attachments")
    ai_run_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    # The macro chosen with `/` (its panel's hidden field): its actions are applied when this message is sent.
    macro = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    # A public reply's recipients, addresses separated by commas (the service checks them). A form without the
    # boxes (a chat or SMS ticket, an old page) leaves them out: the requester and the ticket's CCs.
    to = forms.CharField(required=False, max_length=5000, label="To")
    cc = forms.CharField(required=False, max_length=5000, label="CC")
    bcc = forms.CharField(required=False, max_length=5000, label="BCC")
    # "Send and next": after sending, open the next ticket of the list the agent came from (its query string).
    then = forms.ChoiceField(required=False, choices=[("", "Stay"), ("next", "Next ticket")])
    list = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    @property
    def recipient_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("to", "cc", "bcc")]

    def recipients(self) -> dict[str, str | None]:
        """to/cc/bcc as message_add takes them: None for a box the form did not carry."""
        return {name: self.cleaned_data[name] if name in self.data else None for name in ("to", "cc", "bcc")}


class PreviewForm(forms.Form):
    body = forms.CharField(required=False, max_length=60_000)


# --- Bulk actions -------------------------------------------------------------------------------


class BulkForm(forms.Form):
    ACTIONS = [("assign", "Assign"), ("status", "Set status"), ("tags", "Add tags"), ("merge", "Merge")]
    MAX_TICKETS = 200

    ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    action = forms.ChoiceField(choices=ACTIONS)
    assignee = forms.CharField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "—"), *Ticket.Status.choices])
    tags = forms.CharField(required=False, max_length=1000)
    target = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # Any positive id is a valid choice; which ones exist is the selector's business.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else self.data.get("ids", [])
        self.fields["ids"].choices = [(value, value) for value in raw if str(value).isdigit()]

    def clean_ids(self) -> list[int]:
        ids = list(dict.fromkeys(self.cleaned_data.get("ids") or []))
        if not ids:
            raise ValidationError("Select at least one ticket first.", code="required")
        if len(ids) > self.MAX_TICKETS:
            raise ValidationError(f"At most {self.MAX_TICKETS} tickets at once.", code="too_many")
        return ids

    def clean_assignee(self):
        value = self.cleaned_data.get("assignee", "").strip().lower()
        if value in {"", "none"}:
            return None if value == "none" else ...
        if value == "me":
            return self.user
        agent = selectors.assignable_agents().filter(pk=int(value)).first() if value.isdigit() else None
        if agent is None:
            raise ValidationError("Choose a teammate who works tickets.", code="invalid")
        return agent

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        if action == "assign" and data.get("assignee", ...) is ...:
            self.add_error("assignee", "Choose whom to assign the tickets to (or “Unassigned”).")
        elif action == "status" and not data.get("status"):
            self.add_error("status", "Choose the new status.")
        elif action == "tags" and not data.get("tags"):
            self.add_error("tags", "Type the tags to add.")
        elif action == "merge":
            ids = data.get("ids") or []
            if len(ids) < 2:
                self.add_error("ids", "Select two tickets or more to merge.")
            elif data.get("target") not in ids:
                data["target"] = ids[0]
        return data

    def clean_tags(self) -> list[str]:
        return normalize_tags(self.cleaned_data.get("tags", ""))

    def error_text(self) -> str:
        return " ".join(message for messages in self.errors.values() for message in messages)


# --- Saved views --------------------------------------------------------------------------------


class SavedViewForm(BaseSavedViewForm):
    def view_params(self, *, user) -> dict[str, str]:
        """Only valid list parameters are stored, normalised the way the list reads them."""
        return list_query(self.filter_params(), user=user).params
