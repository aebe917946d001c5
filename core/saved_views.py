"""What every list's saved views share, whatever the list (tickets, leads): the query string a view keeps, the
rules for its name, the "Save view" form and which view a list is showing. The models stay in their apps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.core.exceptions import ValidationError

from .forms import BootstrapFormMixin

NAME_MAX_LENGTH = 80
# The sort is how a view is read, not what it holds: two views differing only by their sort are the same view.
UNCOMPARED_PARAMS = frozenset({"sort", "cursor"})
K = TypeVar("K")


def query_string(params: Mapping[str, str]) -> str:
    return urlencode(params)


def params_from_query_string(text: str) -> dict[str, str]:
    return dict(parse_qsl((text or "").lstrip("?"), keep_blank_values=False))


def view_name_clean(name: str | None) -> str:
    """A view's name with its spaces collapsed; an empty one is refused."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Give the view a name."}, code="required")
    return name[:NAME_MAX_LENGTH]


def matching_view(views: Iterable[tuple[K, Mapping[str, str]]], current: Mapping[str, str]) -> K | None:
    """The key of the first view whose parameters are the list's current ones (the sort aside), or None."""

    def compared(params: Mapping[str, str]) -> dict[str, str]:
        return {key: value for key, value in params.items() if key not in UNCOMPARED_PARAMS}

    wanted = compared(current)
    return next((key for key, params in views if compared(params) == wanted), None)


class SavedViewForm(BootstrapFormMixin, forms.Form):
    """Name a list's current filters (the `filters` query string the "Save view" button sent)."""

    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Give the view a name."},
    )
    shared = forms.BooleanField(required=False, label="Share with the whole workspace")
    # The list's query string when the person clicked "Save view".
    filters = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, can_share: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_share:
            del self.fields["shared"]
        self.style_fields()

    def clean_name(self) -> str:
        try:
            return view_name_clean(self.cleaned_data.get("name", ""))
        except ValidationError as error:
            raise ValidationError(error.message_dict["name"], code="required") from None

    def clean_filters(self) -> str:
        return self.cleaned_data.get("filters", "")

    def filter_params(self) -> dict[str, str]:
        """The sent query string as parameters; the list's own form keeps the valid ones."""
        return params_from_query_string(self.cleaned_data["filters"])
