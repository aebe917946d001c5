"""Insights' forms: a dashboard's filters (the query string every widget, export and drill-down follows), a custom
dashboard's name and sharing, and one widget's catalog entry, size and filters of its own."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts import facade as accounts
from core.forms import BootstrapFormMixin
from customers import facade as customers
from helpdesk import facade as helpdesk

from . import catalog
from .contracts import MetricFilters
from .dashboards import DEFAULT_PERIOD, PERIODS, WIDGET_FILTERS, period_dates
from .models import Dashboard, DashboardWidget

MAX_DAYS = 3 * 366
FILTER_PARAMS = ("period", "start", "end", "team", "channel", "category", "tier", "agent", "priority")


def _id_choices(names: dict[int, str], none: str) -> list[tuple[str, str]]:
    return [("none", none), *((str(pk), name) for pk, name in names.items())]


class DimensionFields(forms.Form):
    """The dimensions a page or a widget narrows by, with the names of this workspace's teams, agents…"""

    team = forms.ChoiceField(required=False, label="Team")
    channel = forms.ChoiceField(required=False, label="Channel")
    category = forms.ChoiceField(required=False, label="Category")
    tier = forms.ChoiceField(required=False, label="Customer tier")
    agent = forms.ChoiceField(required=False, label="Agent or owner")
    priority = forms.ChoiceField(required=False, label="Priority")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dims = helpdesk.ticket_dimensions()
        people = {**accounts.capability_people("leads.edit"), **dims.agents}
        menus = {
            "team": ("Any team", _id_choices(dims.teams, "No team")),
            "channel": ("Any channel", list(dims.channels.items())),
            "category": ("Any category", _id_choices(dims.categories, "No category")),
            "tier": ("Any tier", list(customers.CUSTOMER_TIER_CHOICES)),
            "agent": ("Anyone", _id_choices(dict(sorted(people.items(), key=lambda item: item[1])), "Nobody")),
            "priority": ("Any priority", list(dims.priorities.items())),
        }
        for name, (anything, choices) in menus.items():
            self.fields[name].choices = [("", anything), *choices]


def filters_described(form: forms.Form, filters: dict[str, str]) -> list[str]:
    """A widget's own filters as people read them ("Team: Billing", "Period: Last 7 days"), named by `form`'s menus."""
    described = []
    for name, value in filters.items():
        if name not in form.fields:
            continue
        field = form.fields[name]
        label = dict(getattr(field, "choices", ())).get(value, value)
        described.append(f"{field.label}: {label}")
    return described


def _dimension(value: str) -> int | None:
    return 0 if value == "none" else int(value) if value.isdigit() else None


class DashboardFilterForm(BootstrapFormMixin, DimensionFields):
    """A dashboard's query string. Invalid values are reported on the form and left out, never a 500."""

    period = forms.ChoiceField(required=False, choices=list(PERIODS.items()), label="Period", initial=DEFAULT_PERIOD)
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data=None, **kwargs: Any) -> None:
        data = data.copy() if data is not None else {}
        if not data.get("period"):
            data["period"] = DEFAULT_PERIOD  # an empty query string is the default period, and the menu shows it
        super().__init__(data, **kwargs)
        self.style_fields()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("Give both dates of a custom period.")
            if end < start:
                raise forms.ValidationError("The period ends before it starts.")
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError("Choose a period of at most three years.")
        return data

    def metric_filters(self) -> MetricFilters:
        valid = self.is_valid()
        data = self.cleaned_data
        period = data.get("period") or DEFAULT_PERIOD
        if not valid and period == "custom":  # dates that do not make a period: the default, and the form says why
            period = DEFAULT_PERIOD
        start, end = period_dates(period, start=data.get("start"), end=data.get("end"))
        return MetricFilters(
            start=start,
            end=end,
            team_id=_dimension(data.get("team", "")),
            channel=data.get("channel", ""),
            category_id=_dimension(data.get("category", "")),
            tier=data.get("tier", ""),
            agent_id=_dimension(data.get("agent", "")),
            priority=data.get("priority", ""),
        )

    def params(self) -> dict[str, str]:
        """The valid filters as a query string carries them (for widget refreshes, exports and links)."""
        self.is_valid()
        return {
            name: value.isoformat() if hasattr(value, "isoformat") else str(value)
            for name in FILTER_PARAMS
            if (value := self.cleaned_data.get(name)) not in (None, "")
        }


class DashboardForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Dashboard
        fields = ["name", "shared"]
        labels = {"shared": "Share with everyone who sees insights"}

    def __init__(self, *args: Any, can_share: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_share:
            del self.fields["shared"]
        self.style_fields()


class WidgetForm(BootstrapFormMixin, DimensionFields):
    """A widget: what it shows (grouped by area in the menu), its size and title, and filters of its own."""

    key = forms.ChoiceField(label="Shows")
    title = forms.CharField(required=False, max_length=120, label="Title", help_text="Leave empty for the default.")
    size = forms.ChoiceField(choices=DashboardWidget.Size.choices, initial=DashboardWidget.Size.SMALL, label="Size")
    period = forms.ChoiceField(
        required=False,
        choices=[("", "The dashboard's period"), *((k, v) for k, v in PERIODS.items() if k != "custom")],
        label="Period",
    )

    field_order = ["key", "title", "size", "period", *WIDGET_FILTERS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[str, str]]] = {}
        for entry in catalog.CATALOG.values():
            groups.setdefault(entry.group, []).append((entry.key, f"{entry.title} ({entry.kind})"))
        self.fields["key"].choices = list(groups.items())
        self.style_fields()

    def filter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in WIDGET_FILTERS]

    @classmethod
    def for_widget(cls, widget: DashboardWidget, **kwargs: Any) -> WidgetForm:
        initial = {"key": widget.key, "title": widget.title, "size": widget.size, **(widget.filters or {})}
        return cls(initial=initial, **kwargs)

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        filters = {name: data[name] for name in WIDGET_FILTERS if data.get(name)}
        return {"key": data["key"], "title": data["title"].strip(), "size": data["size"], "filters": filters}
