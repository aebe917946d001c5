"""Canary rows: one recognisable row of any workspace model, built in whatever schema is current.

Our own models are built by their app's factory (`<app>.tests.factories.<Model>Factory`); the few
third-party models that live in workspace schemas have a builder here.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import models
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.tests.factories import UserFactory

CANARY = "beta-canary"


def canary_text() -> str:
    return f"{CANARY}-{uuid.uuid4().hex[:10]}"


def _email_address() -> EmailAddress:
    return EmailAddress.objects.create(user=UserFactory(verified_email=False), email=f"{canary_text()}@beta.test")


def _content_type() -> ContentType:
    return ContentType.objects.create(app_label=canary_text(), model="canary")


BUILDERS: dict[str, Callable[[dict], models.Model]] = {
    "contenttypes.ContentType": lambda fields: _content_type(),
    "auth.Permission": lambda fields: Permission.objects.create(
        name=canary_text(), codename=canary_text(), content_type=_content_type()
    ),
    "auth.Group": lambda fields: Group.objects.create(name=canary_text()),
    "sessions.Session": lambda fields: Session.objects.create(
        session_key=uuid.uuid4().hex, session_data=canary_text(), expire_date=timezone.now()
    ),
    "admin.LogEntry": lambda fields: LogEntry.objects.create(
        user=UserFactory(), action_flag=ADDITION, object_repr=canary_text(), change_message=canary_text()
    ),
    "account.EmailAddress": lambda fields: _email_address(),
    "account.EmailConfirmation": lambda fields: EmailConfirmation.objects.create(
        email_address=_email_address(), key=uuid.uuid4().hex
    ),
    "mfa.Authenticator": lambda fields: Authenticator.objects.create(
        user=UserFactory(), type=Authenticator.Type.RECOVERY_CODES, data={"seed": canary_text()}
    ),
    "authtoken.Token": lambda fields: Token.objects.create(user=UserFactory()),
}


def factory_for(model: type[models.Model]):
    app = model._meta.app_config.name
    try:
        module = importlib.import_module(f"{app}.tests.factories")
    except ModuleNotFoundError:
        return None
    return getattr(module, f"{model.__name__}Factory", None)


def canary_fields(model: type[models.Model]) -> dict:
    """Marks the human-visible text fields so a leak shows up in any page or API body."""
    fields = {}
    for field in model._meta.get_fields():
        if not getattr(field, "concrete", False) or getattr(field, "primary_key", False) or field.is_relation:
            continue
        if isinstance(field, models.EmailField):
            fields[field.name] = f"{canary_text()}@beta.test"
        elif isinstance(field, models.CharField) and field.name in {"name", "title", "subject"} and not field.choices:
            fields[field.name] = canary_text()
    return fields


def build_canary(model: type[models.Model], **extra) -> models.Model:
    """One canary row of `model` in the current schema; fails loudly when nobody knows how to build it."""
    fields = canary_fields(model) | extra
    factory = factory_for(model)
    if factory is not None:
        return factory(**fields)
    builder = BUILDERS.get(model._meta.label)
    if builder is None:
        raise AssertionError(
            f"No canary for workspace model {model._meta.label}: add {model.__name__}Factory to "
            f"{model._meta.app_config.name}/tests/factories.py (or a builder in config/tests/canaries.py)."
        )
    return builder(fields)
