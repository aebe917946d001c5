"""Reading the preferences grid and settings from a POST (checkbox names `pref:<event>:<channel>`)."""

from __future__ import annotations

from zoneinfo import available_timezones

from django import forms

from .contracts import CHANNELS, EventType
from .models import Delivery


def choices_from_post(data, event_types: list[EventType]) -> dict[tuple[str, str], bool]:
    return {
        (event_type.key, channel): f"pref:{event_type.key}:{channel}" in data
        for event_type in event_types
        for channel in CHANNELS
    }


class DeliverySettingsForm(forms.Form):
    quiet_start = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_end = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    timezone = forms.CharField(required=False, max_length=64)
    digest = forms.ChoiceField(required=False, choices=Delivery.Digest.choices)
    phone = forms.RegexField(
        required=False,
        regex=r"^\+[1-9][0-9]{6,14}$",
        error_messages={"invalid": "Use the +country format, e.g. +4915112345678."},
    )

    def clean_timezone(self) -> str:
        value = self.cleaned_data["timezone"].strip()
        if value and value not in available_timezones():
            raise forms.ValidationError("Not a time zone (e.g. Europe/Berlin).")
        return value

    def clean(self):
        data = super().clean()
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if (start is None) != (end is None):
            raise forms.ValidationError("Give both ends of the quiet hours, or neither.")
        return data


class TemplateForm(forms.Form):
    subject = forms.CharField(max_length=300)
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}))
