"""Forms for lead pages: input parsing and messages; the writes happen in services.py."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django import forms
from django.urls import reverse_lazy

from core.forms import BootstrapFormMixin, LookupWidget, id_or_words_validator

from . import selectors
from .models import Lead, LeadActivity, LeadSource, Stage, StageKind
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


class LeadFilterForm(BootstrapFormMixin, forms.Form):
    """The list's filters, read the same way by the page and the API (documented as its query parameters)."""

    q = forms.CharField(required=False, max_length=100, label="Search", help_text="Text in the title or company name.")
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
    sort = forms.ChoiceField(
        required=False,
        choices=[("", "Default")] + [(f"{sign}{key}", f"{sign}{key}") for key in LIST_SORT_KEYS for sign in ("", "-")],
        help_text="A field, “-” first for descending; the newest changes first by default.",
    )
    cursor = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    def query(self, *, user) -> ListQuery:
        data = self.cleaned_data if self.is_valid() else {}
        owner = (data.get("owner") or "").strip().lower()
        owner_id: int | None = None
        if owner == "me":
            owner_id = user.pk
        elif owner.isdigit():
            owner_id = int(owner)
        filters = LeadFilters(
            q=data.get("q") or "",
            stage_id=data.get("stage"),
            owner_id=owner_id,
            unowned=owner == "none",
            source=data.get("source") or "",
            status=data.get("status") or "",
        )
        return ListQuery(filters=filters, sort=data.get("sort") or "-updated", cursor=data.get("cursor") or None)
