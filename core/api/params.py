"""Query parameters of the API: validated by the same Django form the pages use, and documented from it.

One source for both: the form's fields say what a list accepts, `form_parameters` turns them into OpenAPI
parameters (type, enum, bounds, pattern, help text), so the documentation cannot promise what validation refuses
or hide what it accepts. `page_size` and `cursor` are shared by every list (`page_size`, `pagination_parameters`).

The API is stricter than the pages, which ignore a bad value in a stale link: a wrong query parameter answers
400 with a sentence per parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.core import validators
from rest_framework.exceptions import ValidationError

if TYPE_CHECKING:
    from drf_spectacular.utils import OpenApiParameter

BOOLEAN_VALUES = {"true", "false"}
# As JSON writes integers: Django's forms also take " 5", "+5" or "5.0", which the schema does not promise.
WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def validated_query(form_class: type[forms.Form], query: Mapping[str, Any], **form_kwargs: Any) -> forms.Form:
    """The bound, valid form, or a 400 naming each bad parameter."""
    errors = _repeated(query, form_class.base_fields)
    for name, field in form_class.base_fields.items():
        value = query.get(name)
        if isinstance(field, forms.BooleanField) and value is not None and value not in BOOLEAN_VALUES:
            errors.setdefault(name, []).append("Use true or false.")
        elif isinstance(field, forms.IntegerField) and value and not WHOLE_NUMBER.fullmatch(value):
            errors.setdefault(name, []).append("Use a whole number.")
        elif value == "" and not _takes_empty(field):
            # The pages read an empty value as "not given"; the API documents no such value, so it refuses it.
            errors.setdefault(name, []).append("Give a value, or leave the parameter out.")
    form = form_class(query, **form_kwargs)
    if not form.is_valid():
        for name, messages in form.errors.items():
            errors.setdefault(name, [str(message) for message in messages])
    if errors:
        raise ValidationError(errors)
    return form


def _takes_empty(field: forms.Field) -> bool:
    if isinstance(field, forms.ChoiceField):
        return "" in {str(value) for value, _ in _flat_choices(field.choices)}
    return isinstance(field, forms.CharField)


def _repeated(query: Mapping[str, Any], names: Iterable[str]) -> dict[str, list[str]]:
    getlist = getattr(query, "getlist", None)
    if getlist is None:
        return {}
    return {name: ["Send this parameter once."] for name in names if len(getlist(name)) > 1}


def form_parameters(form_class: type[forms.Form], *, exclude: Iterable[str] = ()) -> list[OpenApiParameter]:
    """The form's fields as documented query parameters, in the form's order."""
    from drf_spectacular.utils import OpenApiParameter  # not at import: pagination loads before DRF's views

    return [
        OpenApiParameter(name, type=_field_schema(field), description=str(field.help_text or ""))
        for name, field in form_class.base_fields.items()
        if name not in set(exclude)
    ]


def _field_schema(field: forms.Field) -> dict[str, Any]:
    if isinstance(field, forms.BooleanField):
        return {"type": "boolean"}
    if isinstance(field, forms.ChoiceField):
        return {"type": "string", "enum": [str(value) for value, _ in _flat_choices(field.choices)]}
    if isinstance(field, forms.IntegerField):
        schema: dict[str, Any] = {"type": "integer"}
        for validator in field.validators:
            if isinstance(validator, validators.MinValueValidator):
                schema["minimum"] = validator.limit_value
            elif isinstance(validator, validators.MaxValueValidator):
                schema["maximum"] = validator.limit_value
        return schema
    if isinstance(field, forms.DateField):
        return {"type": "string", "format": "date"}
    if isinstance(field, forms.CharField):
        schema = {"type": "string"}
        for validator in field.validators:
            if isinstance(validator, validators.RegexValidator):
                schema["pattern"] = validator.regex.pattern
            elif isinstance(validator, validators.MaxLengthValidator):
                schema["maxLength"] = validator.limit_value
        return schema
    raise TypeError(f"Document {type(field).__name__} query parameters in core.api.params first.")


def _flat_choices(choices: Iterable) -> Iterable[tuple[Any, Any]]:
    for value, label in choices:
        if isinstance(label, list | tuple):  # an option group
            yield from label
        else:
            yield value, label


# --- Pages of a list --------------------------------------------------------------------------------


def page_size(query: Mapping[str, Any], *, default: int, maximum: int) -> int:
    """`page_size` from the query string: absent means `default`; anything but 1…maximum is a 400."""
    raw = query.get("page_size")
    if raw is None:
        return default
    if _repeated(query, ["page_size"]):
        raise ValidationError({"page_size": ["Send this parameter once."]})
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and 1 <= int(raw) <= maximum):
        raise ValidationError({"page_size": [f"Use a whole number from 1 to {maximum}."]})
    return int(raw)


def cursor(query: Mapping[str, Any]) -> str:
    """`cursor` from the query string ("" for the first page). Its content is checked where it is decoded."""
    raw = query.get("cursor") or ""
    if _repeated(query, ["cursor"]) or "\x00" in raw:
        raise ValidationError({"cursor": ["Send the cursor of a `next` or `previous` link, once."]})
    return raw


def page_size_parameter(*, default: int, maximum: int) -> OpenApiParameter:
    from drf_spectacular.utils import OpenApiParameter  # not at import: pagination loads before DRF's views

    return OpenApiParameter(
        "page_size",
        type={"type": "integer", "minimum": 1, "maximum": maximum},
        description=f"Results per page: {default} unless given, at most {maximum}.",
    )


def cursor_parameter() -> OpenApiParameter:
    from drf_spectacular.utils import OpenApiParameter  # not at import: pagination loads before DRF's views

    return OpenApiParameter(
        "cursor",
        type={"type": "string"},
        description="From `next` or `previous`; an expired or unknown cursor starts at the first page.",
    )


def pagination_parameters(*, default: int, maximum: int) -> list[OpenApiParameter]:
    return [cursor_parameter(), page_size_parameter(default=default, maximum=maximum)]
