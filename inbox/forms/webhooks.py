"""The outbound webhooks settings form (events to send, the receiving URL)."""

from __future__ import annotations

from django import forms

from core.forms import BootstrapFormMixin
from helpdesk.contracts import TICKET_EVENTS

from ..services.webhooks import EVENT_LABELS


class WebhookForm(BootstrapFormMixin, forms.Form):
    url = forms.URLField(
        label="Endpoint URL", max_length=500, assume_scheme="https", help_text="An https:// address of yours."
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[(event, EVENT_LABELS.get(event, event)) for event in TICKET_EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()
