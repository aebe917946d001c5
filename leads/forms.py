"""Forms for lead pages: input parsing and messages; the writes happen in services.py."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone

from core.day_ranges import DayRange, day_field
from core.forms import BootstrapFormMixin, LookupWidget, id_or_words_validator

from . import selectors
from .models import Lead, LeadActivity, LeadSource, Stage, StageKind
from .periods import CLOSE_PERIODS, PERIODS, period_range
from .selectors import LIST_SORT_KEYS, LeadFilters


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.email})" if obj.name else obj.email


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.probability}%)"


class LeadForm(BootstrapFormMixin, forms.ModelForm):
    tags = forms.CharField(required=False, max_length=1000, help_text="Separate tags with commas, e.g. upsell, emea.")
    stage = StageChoiceField(queryset=Stage.objects.none(), required=False, help_text="Where the lead starts.")

    class Meta:
        model = Lead
        fields = [
            "title", "customer", "contact", "company_name", "company_domain", "contact_name", "contact_email",
            "source", "source_ref", "owner", "value", "currency", "expected_close", "tags",
        ]  # fmt: skip
        labels = {
            "customer": "Company",
            "expected_close": "Expected close date",
            "value": "Value",
            "company_name": "New company's name",
            "company_domain": "New company's web domain",
            "contact_name": "New contact's name",
            "contact_email": "New contact's email",
        }
        help_texts = {
            "company_name": "When the company is not a customer yet: it is created (or matched) when the lead is won.",
        }
        widgets = {
            "title": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "50 seats for the support team"}),
            "expected_close": forms.DateInput(attrs={"type": "date"}),
            "currency": forms.TextInput(attrs={"maxlength": 3, "autocomplete": "off", "size": 3}),
            "source_ref": forms.HiddenInput,
            "customer": LookupWidget(url=reverse_lazy("customers:customer_lookup"), placeholder="Search companies"),
            "contact": LookupWidget(
                url=reverse_lazy("customers:contact_lookup"),
                placeholder="Search contacts",
                include="#id_customer_value",
                depends="customer",
            ),
        }
        field_classes = {"owner": OwnerChoiceField}

    def __init__(self, *args: Any, instance: Lead | None = None, **kwargs: Any) -> None:
        # The service compares the stored values with the new ones: the form validates a copy.
        super().__init__(*args, instance=copy.copy(instance) if instance is not None else None, **kwargs)
        self.fields["owner"].queryset = selectors.owner_choices()
        self.fields["owner"].empty_label = "Nobody yet"
        if self.instance.pk:
            del self.fields["stage"]  # stages change by moving the card
            if not self.is_bound:
                self.initial["tags"] = ", ".join(self.instance.tags)
        else:
            pipeline = selectors.pipeline_default()
            stages = [stage for stage in selectors.stage_list(pipeline=pipeline) if stage.kind == StageKind.OPEN]
            self.fields["stage"].queryset = Stage.objects.filter(pk__in=[stage.pk for stage in stages])
            self.fields["stage"].empty_label = stages[0].name if stages else "First stage"
        self.style_fields()

    def prefill(self, query) -> None:
        """Initial values from the page that opened the form (a company page, a ticket): ids and text only."""
        for name in ("customer", "contact", "title", "source", "source_ref"):
            value = (query.get(name) or "").strip()
            if value and (name not in ("customer", "contact") or value.isdigit()):
                self.initial[name] = value

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        return data


class LeadMoveForm(BootstrapFormMixin, forms.Form):
    stage = StageChoiceField(queryset=Stage.objects.none(), label="Move to stage")
    position = forms.IntegerField(min_value=0, required=False, initial=0, widget=forms.HiddenInput)
    lost_reason = forms.CharField(
        required=False, max_length=200, label="Why was it lost?", help_text="Required when moving to a lost stage."
    )

    def __init__(self, *args: Any, lead: Lead, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(pipeline_id=lead.stage.pipeline_id).order_by("order", "id")
        self.style_fields()


class LeadActivityForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = LeadActivity
        fields = ["kind", "subject", "due_at", "remind_at", "notes"]
        labels = {"kind": "Type", "due_at": "Due", "remind_at": "Remind me at"}
        widgets = {
            "due_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "remind_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()


@dataclass(frozen=True)
class ListQuery:
    filters: LeadFilters
    sort: str
    cursor: str | None
    # The valid, non-empty parameters (no cursor), in VIEW_PARAMS order: what a saved view stores.
    params: dict[str, str] = field(default_factory=dict)


# Query-string keys a list (and a saved view) is made of; the cursor is a position, not a filter.
# The day ranges a dashboard's figure drills down through (and a person can set in the list's "Dates").
DAY_RANGES = (
    DayRange("Created", "created_from", "created_to"),
    DayRange("Won", "won_from", "won_to"),
    DayRange("Lost", "lost_from", "lost_to"),
)
VIEW_PARAMS = (
    "q", "pipeline", "stage", "status", "owner", "source", "tag", "value_min", "value_max",
    "close", "close_from", "close_to", "stalled", "won", "created_from", "created_to", "won_from", "won_to",
    "lost_from", "lost_to", "currency", "sort",
)  # fmt: skip
MAX_STALLED_DAYS = 3650
MAX_VALUE = 999_999_999_999


class LeadFilterForm(BootstrapFormMixin, forms.Form):
    """The list's filters, read the same way by the page, its saved views and the API (documented as its query
    parameters). Invalid values are left out, never a 500."""

    q = forms.CharField(
        required=False, max_length=100, label="Search", help_text="Text in the title or the company's name."
    )
    pipeline = forms.IntegerField(required=False, min_value=1, label="Pipeline", help_text="Id of a pipeline.")
    stage = forms.IntegerField(required=False, min_value=1, label="Stage", help_text="Id of a stage.")
    owner = forms.CharField(
        required=False,
        max_length=20,
        label="Owner",
        validators=[id_or_words_validator("me", "none", message="Use a teammate's id, “me” or “none”.")],
        help_text="A teammate's id, “me”, or “none” for unassigned leads.",
    )
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), *LeadSource.choices], label="Source")
    status = forms.ChoiceField(required=False, choices=[("", "Open, won and lost"), *StageKind.choices], label="Status")
    tag = forms.CharField(required=False, max_length=40, label="Tag", help_text="Leads carrying this tag.")
    # Whole units: a list filter needs no cents (and the API documents integers exactly).
    value_min = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_VALUE, label="Value from", help_text="Minimum value, whole units."
    )
    value_max = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_VALUE, label="Value to", help_text="Maximum value, whole units."
    )
    close = forms.ChoiceField(
        required=False,
        choices=[("", "Any close date"), *CLOSE_PERIODS.items()],
        label="Expected close",
        help_text="A period around today; “overdue”: the expected close date has passed.",
    )
    close_from = forms.DateField(required=False, label="Closing from", help_text="Expected close on or after (ISO).")
    close_to = forms.DateField(required=False, label="Closing until", help_text="Expected close on or before (ISO).")
    stalled = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_STALLED_DAYS,
        label="Stalled for (days)",
        help_text="Leads nobody edited or moved for at least this many days.",
    )
    won = forms.ChoiceField(
        required=False, choices=[("", "Won any time"), *PERIODS.items()], label="Won", help_text="Won in this period."
    )
    created_from = day_field("Created on or after")
    created_to = day_field("Created on or before")
    won_from = day_field("Won on or after")
    won_to = day_field("Won on or before")
    lost_from = day_field("Lost on or after")
    lost_to = day_field("Lost on or before")
    currency = forms.RegexField(
        required=False, regex=r"^[A-Za-z]{3}$", label="Currency", help_text="Three letters, e.g. USD."
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[("", "Default")] + [(f"{sign}{key}", f"{sign}{key}") for key in LIST_SORT_KEYS for sign in ("", "-")],
        help_text="A field, “-” first for descending; the newest changes first by default.",
    )
    cursor = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data.get("q", "").split())

    def clean_owner(self) -> str:
        return (self.cleaned_data.get("owner") or "").strip().lower()

    def clean_tag(self) -> str:
        return (self.cleaned_data.get("tag") or "").strip().lower()

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").upper()

    def query(self, *, user, today: date | None = None) -> ListQuery:
        self.is_valid()  # fields with bad values are left out of cleaned_data, i.e. not filtered on
        data = self.cleaned_data
        owner = data.get("owner") or ""
        today = today or timezone.localdate()
        close_from, close_to = period_range(data.get("close") or "", today=today)
        won_from, won_to = period_range(data.get("won") or "", today=today)
        stalled = data.get("stalled")
        filters = LeadFilters(
            q=data.get("q") or "",
            pipeline_id=data.get("pipeline"),
            stage_id=data.get("stage"),
            owner_id=user.pk if owner == "me" else int(owner) if owner.isdigit() else None,
            unowned=owner == "none",
            source=data.get("source") or "",
            status=data.get("status") or "",
            tag=data.get("tag") or "",
            value_min=data.get("value_min"),
            value_max=data.get("value_max"),
            close_from=_later(close_from, data.get("close_from")),
            close_to=_earlier(close_to, data.get("close_to")),
            untouched_since=timezone.now() - timedelta(days=stalled) if stalled else None,
            won_from=_later(won_from, data.get("won_from")),
            won_to=_earlier(won_to, data.get("won_to")),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            lost_from=data.get("lost_from"),
            lost_to=data.get("lost_to"),
            currency=data.get("currency") or "",
        )
        params = {name: str(data[name]) for name in VIEW_PARAMS if data.get(name) not in (None, "")}
        return ListQuery(
            filters=filters, sort=data.get("sort") or "-updated", cursor=data.get("cursor") or None, params=params
        )


def _later(first: date | None, second: date | None) -> date | None:
    return max(first, second) if first and second else first or second


def _earlier(first: date | None, second: date | None) -> date | None:
    return min(first, second) if first and second else first or second


def list_query(params, *, user) -> ListQuery:
    return LeadFilterForm(params).query(user=user)
