"""Form helpers every app's forms share: Bootstrap styling with accessible error marks, and service errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

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


class LookupWidget(forms.Widget):
    """A search-as-you-type box for a ModelChoiceField whose choices are too many for a <select> (companies,
    contacts): the typed text asks `url` for matching options; the chosen row's id travels in a hidden input.

    The view behind `url` reads the text from `lookup_text(request)` and renders components/lookup_options.html.
    `include` names other inputs whose values go along (a contact lookup sends the chosen company); `depends`
    names the field whose new choice empties this one."""

    template_name = "components/lookup.html"

    def __init__(
        self, *, url: str, placeholder: str = "", include: str = "", depends: str = "", attrs: dict | None = None
    ) -> None:
        super().__init__(attrs)
        self.url, self.placeholder, self.include, self.depends = url, placeholder, include, depends

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"].update(
            url=str(self.url),
            placeholder=self.placeholder,
            include=self.include,
            depends=self.depends,
            label=self._label(value),
        )
        return context

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> str:
        # The project's template engine (Django's form renderer looks only in django/forms' own templates).
        return mark_safe(render_to_string(self.template_name, self.get_context(name, value, attrs)))

    def _label(self, value: Any) -> str:
        """The chosen row's name, so an edit form (or one sent back with errors) shows what is chosen."""
        queryset = getattr(getattr(self, "choices", None), "queryset", None)
        if queryset is None or value in (None, "") or not str(value).isdigit():
            return ""
        chosen = queryset.filter(pk=value).first()
        return str(chosen) if chosen is not None else ""


def lookup_text(request) -> str:
    """What a LookupWidget's box holds: its input is named `<field>_search` so it never clashes with the form's
    own fields; a plain `q` works too (the API, a test)."""
    if "q" in request.GET:
        return request.GET["q"].strip()[:100]
    typed = [value for key, value in request.GET.items() if key.endswith("_search")]
    return typed[0].strip()[:100] if typed else ""
