"""One error body for the whole API: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(getattr(exc, "message_dict", None) or {"non_field_errors": exc.messages})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    body = {"error": {"code": _code(exc), "message": _message(exc, response)}}
    if isinstance(exc, exceptions.ValidationError):
        body["error"]["fields"] = (
            response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        )
    response.data = body
    return response


def _code(exc) -> str:
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        return codes if isinstance(codes, str) else exc.default_code
    return "error"


def _message(exc, response) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "Some fields are not valid; see `fields`."
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        return f"Too many requests. Try again in {getattr(exc, 'wait', None) or 'a few'} seconds."
    detail = getattr(exc, "detail", "")
    return str(detail) if detail else "Request failed."
