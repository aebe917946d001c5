"""core.api.errors: what no view explains still answers in the one error body, never a 500."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from core.api.errors import Conflict, exception_handler, service_error
from core.deletion import in_use_message


def test_a_protected_delete_no_service_explained_is_a_409_that_names_the_blockers():
    error = ProtectedError("protected", {Group(pk=1), Group(pk=2), Permission(pk=3)})

    response = exception_handler(error, {"view": None})

    assert response.status_code == 409
    assert response.data == {
        "error": {
            "code": "conflict",
            "message": "This item still has 2 groups and 1 permission. Reassign or delete them first.",
        }
    }


def test_in_use_message_counts_one_and_many():
    assert (
        in_use_message("customer", [Group(pk=1)]) == "This customer still has 1 group. Reassign or delete them first."
    )
    assert in_use_message("customer", []) == "This customer is still in use. Remove what uses it first."


def test_a_service_error_about_a_taken_value_is_a_conflict_and_others_stay_field_errors():
    taken = ValidationError({"name": ValidationError("“Urgent” is already used.", code="unique")})
    mixed = ValidationError(
        {"name": ValidationError("Taken.", code="unique"), "priority": ValidationError("No.", code="invalid")}
    )

    assert (
        isinstance(service_error(taken), Conflict) and str(service_error(taken).detail) == "“Urgent” is already used."
    )
    assert service_error(mixed, {"priority": "priority_level"}).detail == {
        "name": ["Taken."],
        "priority_level": ["No."],
    }
