"""Forms of the helpdesk settings pages (/settings/helpdesk/): parsing and messages; the writes are in
helpdesk/services/helpdesk_settings.py."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError

from core.forms import BootstrapFormMixin

from .models import AgentProfile, BusinessCalendar, Category, HelpdeskSettings, Skill, SLAPolicy, Team, Ticket
from .selectors import helpdesk_settings as selectors

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIERS = Ticket._meta.get_field("customer").related_model.Tier.choices
MAX_HOLIDAYS = 400


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name()


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name()


# --- Durations in business time ------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(?:(\d+(?:[.,]\d+)?)\s*h(?:ours?|rs?)?)?\s*(?:(\d+)\s*m(?:in(?:utes?)?)?)?\s*$", re.I)


def parse_minutes(text: str) -> int:
    """ "90", "90m", "1h 30m", "1.5h", "8 hours" → minutes."""
    text = (text or "").strip()
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise ValidationError("Write a duration like “45m”, “4h”, “1h 30m” or a number of minutes.", code="invalid")
    hours = float((match.group(1) or "0").replace(",", "."))
    return round(hours * 60) + int(match.group(2) or 0)


def format_minutes(minutes: int | None) -> str:
    if not minutes:
        return ""
    hours, rest = divmod(int(minutes), 60)
    return " ".join(part for part in (f"{hours}h" if hours else "", f"{rest}m" if rest else "") if part)


class BusinessMinutesField(forms.CharField):
    """A target in business time, typed as "4h" or "1h 30m" (business hours: "8h" is one working day of 9–17)."""

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        attrs = {"placeholder": "e.g. 4h or 1h 30m", "autocomplete": "off", "maxlength": "40"}
        kwargs.setdefault("widget", forms.TextInput(attrs=attrs))
        super().__init__(*args, required=required, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return format_minutes(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:
        text = super().to_python(value)
        if not text:
            return None
        minutes = parse_minutes(text)
        if minutes < 1:
            raise ValidationError("A target must be at least one minute.", code="min")
        if minutes > 365 * 24 * 60:
            raise ValidationError("That is more than a year; write a shorter target.", code="max")
        return minutes


# --- Switches -----------------------------------------------------------------------------------


class HelpdeskSettingsForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = HelpdeskSettings
        fields = [
            "auto_assign",
            "analysis_enabled",
            "auto_response",
            "auto_response_confidence",
            "auto_close",
            "kb_recommendation_threshold",
            "help_center_enabled",
            "help_center_title",
            "csat_enabled",
        ]
        labels = {
            "auto_assign": "Assign new tickets automatically",
            "analysis_enabled": "Analyse tickets with AI",
            "auto_response": "Answer simple tickets automatically",
            "auto_response_confidence": "Confidence needed to answer automatically",
            "auto_close": "Solve automatically answered tickets",
            "kb_recommendation_threshold": "Article recommendation threshold",
            "help_center_enabled": "Public help center",
            "help_center_title": "Help center title",
            "csat_enabled": "Satisfaction surveys",
        }
        help_texts = {
            "auto_response_confidence": "0–1. Higher means fewer, safer automatic answers (0.8 is a careful start).",
            "help_center_enabled": "Articles marked public and a request form, at /help/ on your workspace's address.",
        }
        widgets = {
            "auto_response_confidence": forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"}),
            "kb_recommendation_threshold": forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("auto_close") and not data.get("auto_response"):
            self.add_error("auto_close", "Only automatically answered tickets are solved: turn that on first.")
        return data

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


# --- SLA policies -------------------------------------------------------------------------------


class SLAPolicyForm(BootstrapFormMixin, forms.ModelForm):
    priority = forms.ChoiceField(required=False, choices=[("", "Any priority"), *Ticket.Priority.choices])
    customer_tier = forms.ChoiceField(required=False, choices=[("", "Any customer tier"), *TIERS])
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *Ticket.Channel.choices])
    first_response_minutes = BusinessMinutesField(
        label="First response within", help_text="Business time from creation to the first public reply."
    )
    next_response_minutes = BusinessMinutesField(
        label="Next response within",
        required=False,
        help_text="Business time to answer each new customer message. Empty: no next-response target.",
    )
    resolution_minutes = BusinessMinutesField(label="Solve within", help_text="Business time from creation to solved.")

    class Meta:
        model = SLAPolicy
        fields = [
            "name",
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
        labels = {
            "warn_at_percent": "Warn at (% of the target used)",
            "breach_reassign_team": "On breach, hand to team",
            "calendar": "Business hours",
        }
        help_texts = {
            "calendar": "The hours the targets count in.",
            "breach_reassign_team": "Its lead is told too; an assignee outside that team lets go of the ticket.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["calendar"].queryset = selectors.business_calendar_choices()
        self.fields["calendar"].empty_label = "The team's calendar, else the default one"
        self.fields["breach_reassign_team"].queryset = selectors.team_choices()
        self.fields["breach_reassign_team"].empty_label = "Nobody: keep it where it is"
        self.style_fields()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, resolution = data.get("first_response_minutes"), data.get("resolution_minutes")
        if first and resolution and first > resolution:
            self.add_error("first_response_minutes", "The first response cannot be due after the solve time.")
        return data

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


# --- Teams, agents, skills, categories ----------------------------------------------------------


class TeamForm(BootstrapFormMixin, forms.ModelForm):
    lead = PersonChoiceField(queryset=None, required=False, help_text="Gets SLA warnings for the team's tickets.")
    members = PeopleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="New tickets of the team are assigned among these people. Nobody ticked: anyone can take them.",
    )

    class Meta:
        model = Team
        fields = ["name", "description", "lead", "calendar"]
        labels = {"calendar": "Business hours"}
        help_texts = {"calendar": "Counts SLA time for the team's tickets when their policy names no calendar."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = selectors.workers()
        self.fields["lead"].empty_label = "No lead"
        self.fields["members"].queryset = selectors.workers()
        self.fields["calendar"].queryset = selectors.business_calendar_choices()
        self.fields["calendar"].empty_label = "The default calendar"
        if self.instance.pk and not self.is_bound:
            self.initial["members"] = list(self.instance.members.values_list("pk", flat=True))
        self.style_fields()

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class AgentProfileForm(BootstrapFormMixin, forms.ModelForm):
    skills = forms.ModelMultipleChoiceField(
        queryset=Skill.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Matched against a new ticket's category name and language.",
    )

    class Meta:
        model = AgentProfile
        fields = ["availability", "max_open_tickets", "skills"]
        labels = {"max_open_tickets": "Open tickets at most"}
        help_texts = {
            "availability": "Only available agents get new tickets automatically.",
            "max_open_tickets": "Automatic assignment skips this agent at this many open tickets.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["skills"].queryset = Skill.objects.all()
        self.style_fields()

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class SkillForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(max_length=60, help_text="A product, a language or a topic, e.g. “billing” or “German”.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()


class CategoryForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "description", "default_team"]
        labels = {"description": "Description for the AI", "default_team": "Default team"}
        help_texts = {
            "description": "One sentence about such tickets: the AI compares new tickets with it to pick a category.",
            "default_team": "New tickets of this category go to this team.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_team"].queryset = selectors.team_choices()
        self.fields["default_team"].empty_label = "No team"
        self.style_fields()

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


# --- Business calendars -------------------------------------------------------------------------


def _day_key(weekday: int, part: str, slot: int) -> str:
    return f"day{weekday}_{part}{slot}"


class CalendarForm(BootstrapFormMixin, forms.Form):
    """A calendar with up to two open intervals per weekday (a lunch break) and holidays, one per line."""

    name = forms.CharField(max_length=100)
    timezone = forms.CharField(
        label="Time zone",
        max_length=64,
        initial="UTC",
        help_text="Where the hours are kept, e.g. Europe/Berlin or America/New_York. Clock changes are handled.",
        widget=forms.TextInput(attrs={"list": "timezone-options", "autocomplete": "off"}),
    )
    is_default = forms.BooleanField(
        required=False, label="Default calendar", help_text="Used where nothing else is set."
    )
    always_open = forms.BooleanField(
        required=False,
        label="Open around the clock (24/7)",
        help_text="Every minute counts; hours and holidays are ignored.",
    )
    holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "2026-12-25 Christmas Day\n2026-12-26 Boxing Day"}),
        help_text="One per line: the date (YYYY-MM-DD), then its name. Closed all day.",
    )

    def __init__(self, *args: Any, calendar: BusinessCalendar | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calendar = calendar
        for weekday in range(7):
            for slot in (1, 2):
                for part in ("opens", "closes"):
                    widget = forms.TimeInput(format="%H:%M", attrs={"type": "time", "class": "form-control-sm"})
                    label = f"{WEEKDAYS[weekday]} {'opens' if part == 'opens' else 'closes'}"
                    self.fields[_day_key(weekday, part, slot)] = forms.TimeField(
                        required=False, widget=widget, label=label if slot == 1 else f"{label} (2nd)"
                    )
        if calendar is not None and not self.is_bound:
            self._initial_from(calendar)
        elif not self.is_bound:
            for weekday in range(5):
                self.initial[_day_key(weekday, "opens", 1)] = time(9)
                self.initial[_day_key(weekday, "closes", 1)] = time(17)
        self.style_fields()

    def _initial_from(self, calendar: BusinessCalendar) -> None:
        self.initial.update(name=calendar.name, timezone=calendar.timezone, is_default=calendar.is_default)
        self.initial["always_open"] = calendar.always_open
        slots: dict[int, int] = {}
        for hours in calendar.hours.all():
            slot = slots[hours.weekday] = slots.get(hours.weekday, 0) + 1
            if slot <= 2:
                self.initial[_day_key(hours.weekday, "opens", slot)] = hours.opens
                self.initial[_day_key(hours.weekday, "closes", slot)] = hours.closes
        self.initial["holidays"] = "\n".join(f"{day.date.isoformat()} {day.name}" for day in calendar.holidays.all())

    def day_rows(self) -> list[dict[str, Any]]:
        """The weekday grid for the template: name and four fields per day."""
        return [
            {
                "name": WEEKDAYS[weekday],
                "fields": [self[_day_key(weekday, part, slot)] for slot in (1, 2) for part in ("opens", "closes")],
            }
            for weekday in range(7)
        ]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = BusinessCalendar.objects.filter(name__iexact=name)
        if self.calendar is not None:
            taken = taken.exclude(pk=self.calendar.pk)
        if taken.exists():
            raise ValidationError(f"There is already a calendar called “{name}”.")
        return name

    def clean_timezone(self) -> str:
        zone = self.cleaned_data["timezone"].strip()
        if zone not in available_timezones():
            raise ValidationError(f"“{zone}” is not a time zone name; pick one from the list, e.g. Europe/London.")
        return zone

    def clean_holidays(self) -> list[tuple[date, str]]:
        holidays: dict[date, str] = {}
        lines = [line.strip() for line in self.cleaned_data.get("holidays", "").splitlines() if line.strip()]
        if len(lines) > MAX_HOLIDAYS:
            raise ValidationError(f"At most {MAX_HOLIDAYS} holidays per calendar.")
        errors = []
        for number, line in enumerate(lines, start=1):
            raw_date, _, name = line.partition(" ")
            try:
                day = date.fromisoformat(raw_date.strip())
            except ValueError:
                errors.append(f"Line {number} (“{line}”) does not start with a date like 2026-12-25.")
                continue
            holidays[day] = name.strip()[:100] or "Holiday"
        if errors:
            raise ValidationError(errors)
        return sorted(holidays.items())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.hours: list[tuple[int, time, time]] = []
        for weekday in range(7):
            previous_close = None
            for slot in (1, 2):
                opens_key, closes_key = _day_key(weekday, "opens", slot), _day_key(weekday, "closes", slot)
                opens, closes = data.get(opens_key), data.get(closes_key)
                if opens is None and closes is None:
                    continue
                if opens is None or closes is None:
                    self.add_error(opens_key if opens is None else closes_key, f"{WEEKDAYS[weekday]}: give both times.")
                    continue
                if closes <= opens:
                    self.add_error(
                        closes_key, f"{WEEKDAYS[weekday]}: closing must come after opening (23:59 = midnight)."
                    )
                    continue
                if previous_close is not None and opens < previous_close:
                    self.add_error(
                        opens_key, f"{WEEKDAYS[weekday]}: the second interval must start after the first ends."
                    )
                    continue
                previous_close = closes
                self.hours.append((weekday, opens, closes))
        if self.calendar is not None and self.calendar.is_default and not data.get("is_default"):
            self.add_error("is_default", "Some calendar must be the default: make another one the default instead.")
        if not self.hours and not data.get("always_open") and not self.errors:
            raise ValidationError("Give the opening hours of at least one day, or make the calendar open 24/7.")
        return data

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "data": {
                "name": data["name"],
                "timezone": data["timezone"],
                "is_default": data["is_default"],
                "always_open": data["always_open"],
            },
            "hours": self.hours,
            "holidays": data["holidays"],
        }


def timezone_options() -> list[str]:
    return sorted(available_timezones())
