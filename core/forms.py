"""Form helpers every app's forms share: Bootstrap styling with accessible error marks, and service errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from .csv_io import ImportMode
from .uploads import upload_check

UNSTYLED_WIDGETS = (forms.HiddenInput, forms.RadioSelect, forms.CheckboxSelectMultiple)


class BootstrapFormMixin:
    """Bootstrap classes on every widget (call `style_fields()` in `__init__`), and `is-invalid` plus
    `aria-invalid` on fields with errors, so templates only lay fields out."""

    def style_fields(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, UNSTYLED_WIDGETS):
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError on the form: each message on its field, the rest above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


def id_or_words_validator(*words: str, message: str) -> RegexValidator:
    """A list filter that takes a row's id or one of a few words ("me", "none"), in any case, spaces around.

    Written as one regex so the API documents exactly what it accepts (core.api.params reads it)."""
    spelled = "|".join("".join(f"[{c.lower()}{c.upper()}]" for c in word) for word in words)
    return RegexValidator(rf"^\s*(?:[0-9]+|{spelled})?\s*$", message)


CSV_EXTENSIONS = (".csv", ".tsv", ".txt")


class CsvImportForm(BootstrapFormMixin, forms.Form):
    """A CSV upload and what to do when some rows have problems: customers' and leads' import pages."""

    file = forms.FileField(
        label="CSV file",
        help_text="Comma- or semicolon-separated, with a header row. UTF-8 or Excel's CSV format.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}),
    )
    mode = forms.ChoiceField(
        label="If some rows have problems",
        choices=ImportMode.CHOICES,
        initial=ImportMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.name.lower().endswith((".xlsx", ".xls", ".numbers", ".ods")):
            raise ValidationError(
                "This is a spreadsheet workbook, not a CSV file. In your spreadsheet app choose "
                "File → Save as (or Download) → CSV, then upload that file.",
                code="workbook",
            )
        # The same allow-list as every upload: a clean name, and bytes that are text (an .exe renamed .csv is not).
        upload_check(file, accept=CSV_EXTENSIONS)
        return file
