"""The base of every input serializer: a JSON body's values must have the JSON type the schema documents.

DRF converts generously: 0 becomes the text "0", "12" the id 12, "yes" and 1 become true. Clients written
against the documented schema never rely on that, and a value of the wrong type is nearly always a bug on their
side worth hearing about; so for JSON bodies the API refuses it with a sentence (form data is all text and keeps
DRF's conversions). Text that cannot be encoded (a lone UTF-16 surrogate) is refused here too, before it reaches
the database, and text longer than its maxLength as sent (DRF would measure it after trimming).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import serializers

# JSON type names as people read them, and the Python types json.loads gives for each.
_TEXT = ("text", (str,))
_WHOLE_NUMBER = ("a whole number", (int,))
_NUMBER = ("a number", (int, float))
_BOOLEAN = ("true or false", (bool,))
_LIST = ("a list", (list,))


class InputSerializer(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = {
                field.field_name: messages
                for field in self._writable_fields
                if field.field_name in data and (messages := _type_errors(field, data[field.field_name]))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _type_errors(field: serializers.Field, value: Any) -> list[str] | dict[int, list[str]]:
    if value is None:
        return []  # allow_null decides, with DRF's own message
    expected = _expected(field)
    if expected is None:
        return []
    label, types = expected
    if isinstance(value, bool) and bool not in types:
        return [f"Send {label}."]
    if not isinstance(value, types):
        return [f"Send {label}."]
    if isinstance(value, str) and not _encodable(value):
        return ["Send valid Unicode text."]
    max_length = getattr(field, "max_length", None)
    if isinstance(value, str) and max_length is not None and len(value) > max_length:
        # Counted as sent, as the schema's maxLength is: DRF would count after trimming white space.
        return [f"Ensure this field has no more than {max_length} characters."]
    if isinstance(field, serializers.ListField) and field.child is not None:
        nested = {index: errors for index, item in enumerate(value) if (errors := _type_errors(field.child, item))}
        if nested:
            return nested
    return []


def _expected(field: serializers.Field) -> tuple[str, tuple[type, ...]] | None:
    if isinstance(field, serializers.BooleanField):
        return _BOOLEAN
    if isinstance(field, serializers.IntegerField):
        return _WHOLE_NUMBER
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return _NUMBER
    if isinstance(field, serializers.PrimaryKeyRelatedField) and field.pk_field is None:
        return _WHOLE_NUMBER
    if isinstance(field, serializers.ChoiceField | serializers.CharField):
        return _TEXT
    if isinstance(field, serializers.ListField):
        return _LIST
    return None  # files, nested objects and free-form JSON: their own fields decide


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class FormDataSerializer(serializers.Serializer):
    """Mixed in before a JSON input serializer to take the same fields as multipart/form-data (to attach files).

    Form data has no null: a field is left out instead, so the documented form-data fields are not nullable."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            field.allow_null = False
        return fields
