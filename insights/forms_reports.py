"""The report schedule form: which dashboard, how often, over which period, in which format, to whom. The rules
(who may receive it, who may schedule to others) are insights.schedules'; this only offers the choices."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.roles import user_can
from core.forms import BootstrapFormMixin

from .models import ReportSchedule
from .schedules import PERIOD_CHOICES, dashboards_for, eligible_recipients


class RecipientChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} <{obj.email}>" if obj.name else obj.email


class ReportScheduleForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(
        required=False, max_length=120, label="Name", help_text="The email's subject. Empty: the dashboard's name."
    )
    dashboard = forms.ChoiceField(label="Dashboard")
    frequency = forms.ChoiceField(choices=ReportSchedule.Frequency.choices, label="How often")
    period = forms.ChoiceField(
        required=False, choices=list(PERIOD_CHOICES.items()), label="Each report covers",
        help_text="Reports go out at 07:00, the day after the period ends.",
    )  # fmt: skip
    format = forms.ChoiceField(choices=ReportSchedule.Format.choices, label="Format", widget=forms.RadioSelect)
    recipients = RecipientChoices(queryset=None, label="Send to")
    enabled = forms.BooleanField(required=False, initial=True, label="Send this report")

    def __init__(self, *args: Any, actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dashboard"].choices = dashboards_for(user=actor)
        people = eligible_recipients()
        if not user_can(actor, "insights.manage"):
            people = people.filter(pk=actor.pk)
            self.fields["recipients"].help_text = "Reports to other people are scheduled by workspace admins."
        else:
            self.fields["recipients"].help_text = "Active people who may see insights. Ctrl/⌘ or Shift picks several."
        self.fields["recipients"].queryset = people
        self.fields["recipients"].widget.attrs["size"] = min(max(people.count(), 3), 10)
        self.style_fields()


def schedule_initial(schedule: ReportSchedule) -> dict:
    return {
        "name": schedule.name,
        "dashboard": schedule.dashboard_slug,
        "frequency": schedule.frequency,
        "period": schedule.period,
        "format": schedule.format,
        "recipients": list(schedule.recipients.all()),
        "enabled": schedule.enabled,
    }
