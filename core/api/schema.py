"""The OpenAPI schema tells the whole truth: drf-spectacular's AutoSchema plus what it cannot see by itself.

Schemathesis checks the running API against this schema (config/tests/test_api_contract.py), in both directions:
every request the schema allows must be accepted, every request it forbids refused. So the schema states what the
serializers really enforce:

- a text field that refuses blanks needs a character that is not white space (DRF trims before checking), and
  no text may hold a NUL character (said once, in the API's description);
- `Meta.require_one_of` on an input serializer: at least one of these fields must be sent;
- `Meta.required_in_patch`: fields a PATCH must still send (drf-spectacular makes every PATCH field optional);
- the error answers every endpoint shares (400, 401, 403, 404, 409, 413, 415, 429) are documented once, here, with
  the one error body of core/api/errors.py, and Retry-After on 429 (`document_error_responses`); an operation
  that documents 503 (the AI could not answer) gets the same body and Retry-After.
"""

from __future__ import annotations

from typing import Any

from django.core import validators
from drf_spectacular import openapi
from rest_framework import serializers

from .patterns import NO_NUL, NOT_BLANK

ERROR_COMPONENT = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error has this shape.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable, for programs: invalid, not_found, conflict…"},
                "message": {"type": "string", "description": "A sentence for people."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {},
                    "description": "Only for 400: what is wrong with each field (a list of messages, or messages "
                    "per position for lists).",
                },
            },
        }
    },
}
ERROR_DESCRIPTIONS = {
    "400": "The request is not valid: see `error.fields` for each field.",
    "401": "Not signed in: send `Authorization: Token <key>`.",
    "403": "Your role may not do this.",
    "404": "Nothing with this id in this workspace.",
    "409": "The request conflicts with the current state: a newer version, something still in use, a name or an "
    "address already taken. Nothing was changed.",
    "413": "The request body is larger than the limit.",
    "415": "The body's content type is not one this operation accepts.",
    "429": "Too many requests: wait the seconds in Retry-After.",
    "503": "A service the operation needs (the AI provider) cannot answer now; nothing was changed.",
}
RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer", "minimum": 0}, "description": "Seconds to wait before trying again."}
}
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}


class AutoSchema(openapi.AutoSchema):
    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if _is_plain_text_input(field) and not field.allow_blank:
            meta["pattern"] = NOT_BLANK
            meta["minLength"] = 1
        return meta

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        meta = getattr(serializer, "Meta", None)
        one_of = getattr(meta, "require_one_of", None)
        if one_of and direction == "request":
            schema["anyOf"] = [{"required": [name]} for name in one_of]
        always = getattr(meta, "required_in_patch", None)
        if always and direction == "request":
            schema["required"] = sorted({*schema.get("required", []), *always})
        return schema


def _is_plain_text_input(field: serializers.Field) -> bool:
    """Writable text without a pattern of its own (a slug's or a URL's regex already excludes NUL and blanks)."""
    return (
        isinstance(field, serializers.CharField)
        and not field.read_only
        and not any(isinstance(validator, validators.RegexValidator) for validator in field.validators)
    )


def document_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: adds the shared error answers to every operation."""
    info = result.setdefault("info", {})
    info["description"] = f"{info.get('description', '')} {NO_NUL}".strip()
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in _error_statuses(method, operation):
                response = responses.setdefault(status, {"description": ERROR_DESCRIPTIONS[status]})
                response.setdefault("content", content)
                if status in ("429", "503"):
                    response.setdefault("headers", RETRY_AFTER)
    return result


def _error_statuses(method: str, operation: dict) -> set[str]:
    statuses = {"401", "403", "429"}
    locations = {parameter.get("in") for parameter in operation.get("parameters", [])}
    if "path" in locations:
        statuses.add("404")
    if "query" in locations or "requestBody" in operation:
        statuses.add("400")
    if "requestBody" in operation:
        statuses |= {"413", "415"}
    if method != "get":
        # A delete of something still in use, a name or address already taken (core/api/errors.py).
        statuses.add("409")
    # A status an operation documents itself (a ticket's version conflict) gets the error body too.
    statuses |= {status for status in operation.get("responses", {}) if status in ERROR_DESCRIPTIONS}
    return statuses
