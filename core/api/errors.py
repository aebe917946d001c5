"""One error body for the whole API: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.deletion import StillInUse, in_use_message


class Conflict(exceptions.APIException):
    """409: the request is fine but the current state refuses it (a newer version, a row still in use, a name
    already taken)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "This conflicts with the current state; nothing was changed."


def exception_handler(exc, context) -> Response | None:
    if isinstance(exc, StillInUse):
        exc = Conflict(str(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        # A delete no service explained: still a 409 that says what blocks it, never a 500.
        blockers = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        exc = Conflict(in_use_message(_deleted_kind(context), blockers))
    elif isinstance(exc, DjangoValidationError):
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


def _deleted_kind(context) -> str:
    """The kind of row the view was deleting, for the sentence ("item" when the view does not say)."""
    model = getattr(getattr(context.get("view"), "queryset", None), "model", None)
    return str(model._meta.verbose_name) if model is not None else "item"


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


# Django's code for a value another row already has (model validation), and ours for the same in services.
UNIQUE_CODES = {"unique", "unique_together"}


def service_error(error: DjangoValidationError, renames: Mapping[str, str] | None = None) -> exceptions.APIException:
    """A service's ValidationError as the API answers it: 409 when every problem is a value already taken (a name,
    a slug), else 400 with each message under the name the API uses for that field."""
    renames = renames or {}
    if not hasattr(error, "error_dict"):
        return exceptions.ValidationError({"non_field_errors": error.messages})
    problems = [problem for problems in error.error_dict.values() for problem in problems]
    if problems and all(problem.code in UNIQUE_CODES for problem in problems):
        return Conflict(" ".join(message for problem in problems for message in problem.messages))
    return exceptions.ValidationError(
        {renames.get(field, field): messages for field, messages in error.message_dict.items()}
    )
