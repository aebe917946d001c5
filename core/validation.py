"""Validation helpers for services: the checks every write repeats, raised as field-keyed ValidationErrors."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db.models import Choices
from django.utils.regex_helper import _lazy_re_compile


def required_text(value: str | None, *, field: str, label: str, limit: int) -> str:
    """`value` stripped; refused when empty or longer than `limit` characters."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: f"{label} cannot be empty."})
    if len(value) > limit:
        raise ValidationError({field: f"{label} is too long ({len(value):,} characters; at most {limit:,})."})
    return value


def valid_choice(value: str, choices: type[Choices], field: str) -> str:
    """`value` when it is one of `choices`; refused with the list of valid values otherwise."""
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise ValidationError({field: f"“{value}” is not a valid {field}; use one of: {allowed}."})
    return value


class InternationalEmailValidator(EmailValidator):
    """An address as mail servers accept it since RFC 6531 (SMTPUTF8): the local part may hold non-ASCII letters
    (`jürgen@example.de`, `用户@例子.中国`); Django's own validator takes only ASCII there. The domain is checked as
    Django checks it (IDNA)."""

    user_regex = _lazy_re_compile(
        r"(^[-!#$%&'*+/=?^_`{}|~0-9A-Z\u0080-\U0010ffff]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z\u0080-\U0010ffff]+)*\Z"
        r'|^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"\Z)',
        re.IGNORECASE,
    )


validate_international_email = InternationalEmailValidator()
