"""Forms for customer and contact pages: input parsing and messages; the writes happen in services.py."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.forms import BootstrapFormMixin, CsvImportForm, id_or_words_validator  # noqa: F401 (customers.views)

from . import selectors
from .models import Contact, Customer
from .selectors import CUSTOMER_SORT_KEYS, ContactFilters, CustomerFilters
from .timeline import timeline_kinds
from .validators import normalize_domain, normalize_phone, normalize_tags


class _OwnCopyModelForm(forms.ModelForm):
    """ModelForm writes cleaned values into its instance while validating; it gets a copy so the service
    still sees the stored values and can tell what changed."""

    def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, instance=copy.copy(instance) if instance is not None else None, **kwargs)


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.email})" if obj.name else obj.email


class CustomerForm(BootstrapFormMixin, _OwnCopyModelForm):
    tags = forms.CharField(
        required=False, help_text="Separate tags with commas, e.g. vip, emea, renewal-q3.", max_length=1000
    )
    # Set once the person has seen the "already exists" warning and saves anyway.
    allow_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Customer
        fields = ["name", "domain", "industry", "tier", "owner", "tags"]
        labels = {"name": "Company name", "domain": "Web domain"}
        help_texts = {"domain": "We strip “https://” and “www.”, so pasting the web address is fine."}
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Acme Inc."}),
            "domain": forms.TextInput(attrs={"placeholder": "acme.com", "inputmode": "url", "autocomplete": "off"}),
            "industry": forms.TextInput(attrs={"list": "industry-options", "autocomplete": "off"}),
        }
        field_classes = {"owner": OwnerChoiceField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.customer_owner_choices()
        self.fields["owner"].empty_label = "Nobody yet"
        self.fields["domain"].required = False
        if not self.is_bound and self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags)
        self.style_fields()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Enter the company's name.", code="required")
        if not self.cleaned_data_allow_duplicate():
            duplicates = selectors.customer_duplicates(name=name, exclude_id=self.instance.pk)
            if duplicates:
                raise ValidationError(
                    f"A customer named “{duplicates[0].name}” already exists. Save again to add another one.",
                    code="duplicate",
                )
        return name

    def cleaned_data_allow_duplicate(self) -> bool:
        # `name` is cleaned before `allow_duplicate`, so read the raw value.
        return self.data.get(self.add_prefix("allow_duplicate")) in {"1", "true", "True", "on"}

    def clean_domain(self) -> str:
        return normalize_domain(self.cleaned_data.get("domain", ""))

    def clean_industry(self) -> str:
        return self.cleaned_data.get("industry", "").strip()

    def clean_tags(self) -> list[str]:
        return normalize_tags(self.cleaned_data.get("tags", ""))

    @property
    def needs_duplicate_confirmation(self) -> bool:
        return self.is_bound and self.has_error("name", "duplicate")

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ContactForm(BootstrapFormMixin, _OwnCopyModelForm):
    class Meta:
        model = Contact
        fields = ["name", "title", "email", "phone"]
        labels = {"title": "Job title", "email": "E-mail"}
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Jane Doe"}),
            "title": forms.TextInput(attrs={"placeholder": "Head of Support"}),
            # Text, not type=email: browsers refuse a non-ASCII local part (jürgen@…) that mail servers accept.
            "email": forms.TextInput(
                attrs={"placeholder": "jane@acme.com", "inputmode": "email", "autocomplete": "email"}
            ),
            "phone": forms.TextInput(attrs={"placeholder": "+1 555 0100", "inputmode": "tel"}),
        }

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.style_fields()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Enter the person's name.", code="required")
        return name

    def clean_email(self) -> str:
        email = self.cleaned_data.get("email", "").strip().lower()
        if email and selectors.contact_email_taken(customer=self.customer, email=email, exclude_id=self.instance.pk):
            raise ValidationError(f"{email} is already a contact at {self.customer.name}.", code="duplicate")
        return email

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("phone", ""))

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


# --- List pages: search, filters, sorting, cursor -----------------------------------------------


def _sort_choices(keys: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    return [(value, value) for field in keys for value in (field, f"-{field}")]


@dataclass(frozen=True)
class ListQuery:
    filters: Any
    sort: str
    cursor: str


class CustomerFilterForm(forms.Form):
    """The query string of the customer list, its CSV export and the list API. Invalid values are ignored."""

    q = forms.CharField(required=False, max_length=200, help_text="Search name, domain, contact name or e-mail.")
    tier = forms.ChoiceField(required=False, choices=[("", "All tiers"), *Customer.Tier.choices])
    industry = forms.CharField(required=False, max_length=100, help_text="Exact industry, any case.")
    owner = forms.CharField(
        required=False,
        help_text="A teammate's id, “me” or “none”.",
        validators=[id_or_words_validator("me", "none", message="Use a teammate's id, “me” or “none”.")],
    )
    tag = forms.CharField(required=False, max_length=40)
    health = forms.ChoiceField(
        required=False, choices=[("", "Any health"), *Customer.HealthBand.choices], help_text="A health band."
    )
    churned = forms.ChoiceField(
        required=False,
        choices=[("", "Active and churned"), ("no", "Active"), ("yes", "Churned")],
        help_text="“yes”: only companies marked churned; “no”: only the others.",
    )
    sort = forms.ChoiceField(
        required=False, choices=_sort_choices(CUSTOMER_SORT_KEYS), help_text="A leading “-” reverses. Default: name."
    )
    cursor = forms.CharField(required=False)

    def clean_owner(self) -> str:
        owner = self.cleaned_data.get("owner", "").strip().lower()
        if owner and owner not in {"me", "none"} and not owner.isdigit():
            raise ValidationError("Use a teammate's id, “me” or “none”.", code="invalid")
        return owner

    def clean_tag(self) -> str:
        return "-".join(self.cleaned_data.get("tag", "").strip().lower().split())

    def query(self, *, user) -> ListQuery:
        self.is_valid()  # fields with bad values are left out of cleaned_data, i.e. not filtered on
        data = self.cleaned_data
        owner = data.get("owner", "")
        filters = CustomerFilters(
            q=data.get("q", ""),
            tier=data.get("tier", ""),
            industry=data.get("industry", "").strip(),
            owner_id=user.pk if owner == "me" else int(owner) if owner.isdigit() else None,
            unowned=owner == "none",
            tag=data.get("tag", ""),
            health=data.get("health", ""),
            churned=data.get("churned", ""),
        )
        return ListQuery(filters=filters, sort=data.get("sort") or "name", cursor=data.get("cursor", ""))


class ContactFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, help_text="Search name, e-mail or company name.")
    customer = forms.IntegerField(required=False, min_value=1, help_text="Only this customer's contacts.")
    sort = forms.ChoiceField(
        required=False,
        choices=_sort_choices(selectors.CONTACT_SORT_KEYS),
        help_text="A leading “-” reverses. Default: name.",
    )
    cursor = forms.CharField(required=False)

    def query(self) -> ListQuery:
        self.is_valid()
        data = self.cleaned_data
        filters = ContactFilters(q=data.get("q", ""), customer_id=data.get("customer"))
        return ListQuery(filters=filters, sort=data.get("sort") or "name", cursor=data.get("cursor", ""))


# --- Notes, tasks and the timeline --------------------------------------------------------------


class NoteForm(BootstrapFormMixin, forms.Form):
    body = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What happened, what was agreed… (Markdown)"}),
        max_length=20_000,
        help_text="Markdown: **bold**, lists, links.",
    )
    pinned = forms.BooleanField(label="Pin to the top", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()


class TaskForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label="Task", max_length=200, widget=forms.TextInput(attrs={"placeholder": "Call back"}))
    owner = OwnerChoiceField(queryset=None, required=False, label="Owner", empty_label="Me")
    due_at = forms.DateTimeField(
        label="Due",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reminder_at = forms.DateTimeField(
        label="Remind me at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="The owner gets an email then.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.customer_owner_choices()
        self.style_fields()

    def service_data(self, *, actor) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["owner"] = data["owner"] or actor
        return data


def timeline_kind_choices() -> list[tuple[str, str]]:
    return [(kind.name, kind.label) for kind in timeline_kinds()]


class TimelineFilterForm(forms.Form):
    """The timeline's filters, on the pages and in the API: activity types, a date range, the page cursor."""

    kinds = forms.MultipleChoiceField(
        label="Activity types",
        required=False,
        choices=timeline_kind_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="None checked: every type.",
    )
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    cursor = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise ValidationError({"until": "The end date comes before the start date."})
        return data

    def query(self) -> dict[str, Any]:
        """Selector arguments: whole days in the workspace's time zone, `until` included."""
        data = self.cleaned_data if self.is_valid() else {}
        since, until = day_bounds(data.get("since"), data.get("until"))
        return {
            "kinds": data.get("kinds") or None,
            "since": since,
            "until": until,
            "cursor": data.get("cursor") or None,
        }


def day_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """From the start of `since` to the end of `until` (included), in the workspace's time zone."""
    end = _day_start(until + timedelta(days=1)) if until and until < date.max else None
    return (_day_start(since) if since else None), end


def _day_start(day: date) -> datetime | None:
    """Midnight of `day` in the workspace's time zone; None (no bound) at the calendar's ends (year 1 or 9999)."""
    try:
        return timezone.make_aware(datetime.combine(day, time.min))
    except (OverflowError, ValueError):
        return None


class ChurnForm(forms.Form):
    """Marking a company churned (customers.services.customer_churn_mark)."""

    churned_at = forms.DateField(label="Churned on", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="Reason", required=False, max_length=200, help_text="e.g. “Moved to a competitor”.")
