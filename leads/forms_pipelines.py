"""Forms of the pipeline settings pages: they parse and label; the rules are services.pipeline_* / stage_*."""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import BootstrapFormMixin

from .models import Stage, StageKind


class PipelineForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()


class StageForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(max_length=60, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    kind = forms.ChoiceField(choices=StageKind.choices, initial=StageKind.OPEN, label="Kind")
    probability = forms.IntegerField(
        min_value=0, max_value=100, initial=0, label="Win probability (%)", widget=forms.NumberInput(attrs={"size": 4})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()


class StageDeleteForm(BootstrapFormMixin, forms.Form):
    move_to = forms.ModelChoiceField(
        queryset=Stage.objects.none(),
        required=False,
        label="Move its leads to",
        empty_label="Choose a stage",
        help_text="The stage's leads and its history of moves go to this stage.",
    )

    def __init__(self, *args: Any, stage: Stage, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        others = Stage.objects.filter(pipeline_id=stage.pipeline_id, kind=stage.kind).exclude(pk=stage.pk)
        self.fields["move_to"].queryset = others.order_by("order", "id")
        self.style_fields()


def stage_ids(data) -> list[int]:
    """The stages of one pipeline in their new order: the page's `stage` inputs, as dragged."""
    return [int(value) for value in data.getlist("stage") if value.isdigit()]
