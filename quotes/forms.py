"""Forms for quote pages: input parsing and messages; the writes happen in services.py and catalog.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from core.day_ranges import DayRange, day_field
from core.forms import BootstrapFormMixin, id_or_words_validator
from customers import facade as customers
from inbox import facade as inbox
from leads import facade as leads

from . import acceptance, selectors
from .catalog import CATALOG_CURRENCIES
from .models import HEX_COLOUR, Product, Quote, QuoteStatus, QuoteTemplate
from .selectors import LIST_SORT_KEYS, ProductFilters, QuoteFilters


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.email})" if obj.name else obj.email


class QuoteCreateForm(BootstrapFormMixin, forms.Form):
    """A new quote for a lead or a company (prefilled from the page that opened it)."""

    title = forms.CharField(required=False, max_length=200, help_text="The lead's title when left empty.")
    lead = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Lead")
    customer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Company")
    currency = forms.CharField(required=False, max_length=3, help_text="Three letters, e.g. USD; the lead's if empty.")
    template = forms.ModelChoiceField(queryset=QuoteTemplate.objects.all(), required=False, empty_label="No template")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead"].choices = [("", "No lead"), *leads.lead_choices()]
        self.fields["customer"].choices = [("", "The lead's company"), *customers.customer_choices()]
        self.style_fields()

    def prefill(self, query) -> None:
        for name in ("lead", "customer"):
            value = (query.get(name) or "").strip()
            if value.isdigit():
                self.initial[name] = int(value)
                self._keep_choice(name, int(value))

    def _keep_choice(self, name: str, value: int) -> None:
        """A closed lead (or a company past the chooser's limit) opened from its own page stays choosable."""
        if value not in {choice for choice, _ in self.fields[name].choices if choice != ""}:
            self.fields[name].choices = [*self.fields[name].choices, (value, f"#{value}")]

    def full_clean(self) -> None:
        if self.is_bound:
            for name in ("lead", "customer"):
                value = str(self.data.get(name) or "")
                if value.isdigit():
                    self._keep_choice(name, int(value))
        super().full_clean()

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "lead_id": data["lead"],
            "customer_id": data["customer"],
            "currency": data["currency"],
            "template": data["template"],
        }


class QuoteHeaderForm(BootstrapFormMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Quote
        fields = ["title", "currency", "valid_until", "payment_terms", "owner", "notes", "terms"]
        widgets = {
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "currency": forms.TextInput(attrs={"maxlength": 3, "size": 3, "autocomplete": "off"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "terms": forms.Textarea(attrs={"rows": 3}),
        }
        field_classes = {"owner": OwnerChoiceField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.owner_choices()
        if not self.is_bound and self.instance.pk:
            self.initial["version"] = self.instance.version
        self.style_fields()

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class LineEditForm(forms.Form):
    """One inline edit of a line: only the fields the request carries change."""

    version = forms.IntegerField(min_value=1)
    description = forms.CharField(required=False, max_length=4000)
    quantity = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=3)
    unit_price = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=4)
    discount = forms.DecimalField(required=False, min_value=0, max_value=100, max_digits=5, decimal_places=2)
    tax_rate = forms.DecimalField(required=False, min_value=0, max_value=100, max_digits=5, decimal_places=2)
    optional = forms.BooleanField(required=False)
    selected = forms.BooleanField(required=False)

    EDITABLE = ("description", "quantity", "unit_price", "discount", "tax_rate", "optional", "selected")

    def changes(self) -> dict[str, Any]:
        """The submitted fields; a checkbox counts when its hidden companion ("<name>__present") was sent."""
        changes = {}
        for name in self.EDITABLE:
            if name in ("optional", "selected"):
                if f"{name}__present" in self.data:
                    changes[name] = self.cleaned_data[name]
            elif name in self.data and self.cleaned_data[name] is not None:
                changes[name] = self.cleaned_data[name]
        return changes


class LineAddForm(forms.Form):
    version = forms.IntegerField(min_value=1)
    product = forms.ModelChoiceField(queryset=Product.objects.active(), required=False)
    kind = forms.ChoiceField(choices=[("item", "item"), ("section", "section")], required=False)
    description = forms.CharField(required=False, max_length=4000)


class StatusForm(forms.Form):
    version = forms.IntegerField(min_value=1, required=False)
    status = forms.ChoiceField(choices=QuoteStatus.choices)
    reason = forms.CharField(required=False, max_length=300)


@dataclass(frozen=True)
class ListQuery:
    filters: QuoteFilters
    sort: str
    cursor: str | None
    # The valid, non-empty parameters (no cursor): what the chips remove one by one.
    params: dict[str, str] = field(default_factory=dict)


# The day ranges a dashboard's figure drills down through (and a person can set in the list's "Dates").
DAY_RANGES = (
    DayRange("Created", "created_from", "created_to"),
    DayRange("Sent", "sent_from", "sent_to"),
    DayRange("Answered", "answered_from", "answered_to"),
)


class QuoteFilterForm(BootstrapFormMixin, forms.Form):
    """The list's filters, read the same way by the page and the API (documented as its query parameters)."""

    q = forms.CharField(required=False, max_length=100, label="Search", help_text="Number, title or company name.")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *QuoteStatus.choices], label="Status")
    owner = forms.CharField(
        required=False,
        max_length=20,
        validators=[id_or_words_validator("me", "none", message="Use a teammate's id, “me” or “none”.")],
        help_text="A teammate's id, “me”, or “none” for quotes nobody owns.",
    )
    customer = forms.IntegerField(required=False, min_value=1, help_text="Id of a company.")
    lead = forms.IntegerField(required=False, min_value=1, help_text="Id of a lead.")
    currency = forms.RegexField(
        required=False, regex=r"^[A-Za-z]{3}$", label="Currency", help_text="Three letters, e.g. USD."
    )
    created_from = day_field("Created on or after")
    created_to = day_field("Created on or before")
    sent_from = day_field("Sent on or after")
    sent_to = day_field("Sent on or before")
    answered_from = day_field("Accepted, declined or expired on or after")
    answered_to = day_field("Accepted, declined or expired on or before")
    sort = forms.ChoiceField(
        required=False,
        choices=[("", "Default")] + [(f"{sign}{key}", f"{sign}{key}") for key in LIST_SORT_KEYS for sign in ("", "-")],
        help_text="A field, “-” first for descending; the newest number first by default.",
    )
    cursor = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").upper()

    def query(self, *, user) -> ListQuery:
        self.is_valid()  # fields with bad values are left out of cleaned_data, i.e. not filtered on
        data = self.cleaned_data
        owner = (data.get("owner") or "").strip().lower()
        filters = QuoteFilters(
            q=data.get("q") or "",
            status=data.get("status") or "",
            owner_id=user.pk if owner == "me" else int(owner) if owner.isdigit() else None,
            unowned=owner == "none",
            customer_id=data.get("customer"),
            lead_id=data.get("lead"),
            currency=data.get("currency") or "",
            **{name: data.get(name) for each in DAY_RANGES for name in (each.start, each.end)},
        )
        params = {name: str(value) for name, value in data.items() if name != "cursor" and value not in (None, "")}
        return ListQuery(
            filters=filters, sort=data.get("sort") or "-number", cursor=data.get("cursor") or None, params=params
        )


class ProductForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Product
        fields = ["sku", "name", "description", "unit", "category", "tax_rate", "cost", "cost_currency", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"tax_rate": "Tax rate (%)", "cost": "Unit cost"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for currency in CATALOG_CURRENCIES:
            field = forms.DecimalField(
                required=False, min_value=0, max_digits=14, decimal_places=4, label=f"Price ({currency})"
            )
            self.fields[f"price_{currency.lower()}"] = field
            if self.instance.pk and not self.is_bound:
                price = next((p.unit_price for p in self.instance.prices.all() if p.currency == currency), None)
                self.initial[f"price_{currency.lower()}"] = price
        self.style_fields()

    def product_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def prices(self) -> dict[str, Any]:
        return {currency: self.cleaned_data[f"price_{currency.lower()}"] for currency in CATALOG_CURRENCIES}


class ProductFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    category = forms.CharField(required=False, max_length=60)
    active = forms.ChoiceField(required=False, choices=[("", "All"), ("yes", "Active"), ("no", "Inactive")])
    cursor = forms.CharField(required=False, max_length=2000)

    def filters(self) -> ProductFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return ProductFilters(
            q=data.get("q") or "", category=data.get("category") or "", active=data.get("active") or ""
        )


class QuoteSendForm(BootstrapFormMixin, forms.Form):
    """The send dialog: recipients (several, comma-separated, each checked), subject and message; the PDF goes with
    it."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    to = forms.CharField(
        label="To",
        max_length=2000,
        help_text="Several addresses: separate them with commas.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    cc = forms.CharField(
        label="Cc", max_length=2000, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    subject = forms.CharField(max_length=200)
    message = forms.CharField(max_length=20_000, widget=forms.Textarea(attrs={"rows": 10}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    def clean_to(self) -> list[str]:
        return _addresses(self.cleaned_data["to"])

    def clean_cc(self) -> list[str]:
        return _addresses(self.cleaned_data["cc"])


def _addresses(text: str) -> list[str]:
    try:
        return inbox.email_addresses_parse(text)
    except ValidationError as error:
        raise ValidationError(error.messages, code="bad_address") from None


class QuotePdfQueryForm(forms.Form):
    """The PDF download's query (API): which sent revision; none for the quote as it stands."""

    revision = forms.IntegerField(
        required=False, min_value=1, max_value=1_000_000,
        help_text="A sent revision's number; without it, the current one (a preview while the quote is a draft).",
    )  # fmt: skip


class QuoteSettingsForm(BootstrapFormMixin, forms.Form):
    """The quote branding page: the brand colour (picker and text kept in step by static/js), the logo to upload,
    replace or remove. The type and size checks on the logo's bytes happen in quotes.branding."""

    brand_colour = forms.CharField(
        label="Brand colour",
        max_length=7,
        validators=[HEX_COLOUR],
        help_text="Headings and lines on the PDF, the accept button on the customer's page. # and six hex digits.",
    )
    logo = forms.FileField(
        label="Logo",
        required=False,
        help_text="PNG, JPEG or WebP, up to 2 MiB. Printed at the top of every quote.",
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_logo = forms.BooleanField(label="Remove the logo", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["brand_colour"].widget.attrs.update(
            **{"pattern": "#[0-9a-fA-F]{6}", "spellcheck": "false", "autocomplete": "off", "data-colour-text": ""}
        )
        self.style_fields()


# --- The customer's public quote page (quotes/views_public.py) ---------------------------------------------


class AcceptForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label="Your full name", max_length=acceptance.NAME_LIMIT)
    signature = forms.CharField(required=False, widget=forms.HiddenInput)
    accept_terms = forms.BooleanField(label="I accept this quote and its terms")
    line = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, *args: Any, optional_ids: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [(line_id, line_id) for line_id in sorted(optional_ids)]
        self.fields["name"].widget.attrs.update(autocomplete="name", maxlength=acceptance.NAME_LIMIT)
        self.style_fields()


class DeclineForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why are you declining?", max_length=acceptance.REASON_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()
