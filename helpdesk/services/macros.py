"""Writing macros: create, update, delete (personal ones by their owner, shared ones by helpdesk admins), and apply
one to a ticket when the agent sends the reply it filled in (or from the ticket's macro menu, actions only).

The reply text is workspace-written: its placeholders are checked when it is saved (core.placeholders, the
names helpdesk.services.ticket_actions fills) and substituted safely when used; Django's template engine never
sees it. The actions go through helpdesk.services.ticket_actions with the source "macro:<id>".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.roles import user_can
from core.placeholders import placeholders_malformed, placeholders_unknown
from core.validation import required_text, valid_choice

from ..contracts import TicketActionResult
from ..models import Macro, MacroUse, Ticket
from . import ticket_actions
from .tickets import MAX_BODY

MAX_NAME = 100
MAX_DESCRIPTION = 300
MAX_MACROS_PER_PERSON = 200
SHARE_CAPABILITY = "helpdesk.configure"


def macro_source(macro: Macro) -> str:
    """How the ticket's history and webhooks name a change this macro made."""
    return f"macro:{macro.pk}"


def macro_editable(macro: Macro, user) -> bool:
    """A personal macro by its owner; a shared one by whoever may share macros (helpdesk admins)."""
    if macro.shared:
        return user_can(user, SHARE_CAPABILITY)
    return macro.owner_id == user.pk


def reply_text_check(text: str) -> str:
    """The reply text, refused when it has template tags, unknown filters or placeholders the ticket never fills."""
    text = (text or "").strip()
    if len(text) > MAX_BODY:
        raise ValidationError({"reply_text": f"The reply text is too long (at most {MAX_BODY:,} characters)."})
    problems = []
    malformed = placeholders_malformed(text)
    if malformed:
        problems.append(
            f"{', '.join(dict.fromkeys(malformed))}: not a placeholder. Write placeholders as "
            "{{ ticket.requester.first_name }}, optionally with a fallback: "
            '{{ ticket.requester.first_name|default:"there" }}. Template tags and other filters are not allowed.'
        )
    unknown = placeholders_unknown(text, ticket_actions.TICKET_PLACEHOLDERS)
    if unknown:
        noun = "placeholder" if len(unknown) == 1 else "placeholders"
        problems.append(
            f"Unknown {noun} {', '.join(unknown)}. You may use: {', '.join(ticket_actions.TICKET_PLACEHOLDERS)}."
        )
    if problems:
        raise ValidationError({"reply_text": problems})
    return text


def actions_stored(steps: Sequence[ticket_actions.Step]) -> list[dict[str, Any]]:
    """Checked actions in the one shape macros keep: ids as strings, tags as lists, no value where none is taken."""
    stored = []
    for step in steps:
        value = step.value
        if hasattr(value, "pk"):
            value = str(value.pk)
        elif value is None and step.type in ("assign_agent", "set_category"):
            value = ""
        stored.append({"type": step.type} if step.type == "assign_team_lead" else {"type": step.type, "value": value})
    return stored


def _cleaned(
    *, actor, name: str, description: str, reply_text: str, actions: Sequence[Mapping], visibility: str
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    checks = (
        ("name", lambda: required_text(name, field="name", label="The name", limit=MAX_NAME)),
        ("description", lambda: (description or "").strip()[:MAX_DESCRIPTION]),
        ("reply_text", lambda: reply_text_check(reply_text)),
        ("actions", lambda: actions_stored(ticket_actions.actions_clean(actions))),
        ("visibility", lambda: valid_choice(visibility, Macro.Visibility, "visibility")),
    )
    for field, check in checks:
        try:
            values[field] = check()
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if not errors and not values["reply_text"] and not values["actions"]:
        errors["reply_text"] = ["A macro needs a reply text, actions, or both."]
    if values.get("visibility") == Macro.Visibility.SHARED and not user_can(actor, SHARE_CAPABILITY):
        errors["visibility"] = ["Only helpdesk admins can share macros with everyone; keep this one personal."]
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def macro_create(
    *,
    actor,
    name: str,
    description: str = "",
    reply_text: str = "",
    actions: Sequence[Mapping] = (),
    visibility: str = Macro.Visibility.PERSONAL,
) -> Macro:
    values = _cleaned(
        actor=actor, name=name, description=description, reply_text=reply_text, actions=actions, visibility=visibility
    )
    if Macro.objects.filter(owner=actor, visibility=Macro.Visibility.PERSONAL).count() >= MAX_MACROS_PER_PERSON:
        raise ValidationError({"name": f"You have {MAX_MACROS_PER_PERSON} personal macros already; delete one first."})
    return Macro.objects.create(owner=actor, **values)


@transaction.atomic
def macro_update(
    *,
    macro: Macro,
    actor,
    name: str,
    description: str = "",
    reply_text: str = "",
    actions: Sequence[Mapping] = (),
    visibility: str = Macro.Visibility.PERSONAL,
) -> Macro:
    if not macro_editable(macro, actor):
        raise PermissionDenied("Only helpdesk admins can change shared macros.")
    values = _cleaned(
        actor=actor, name=name, description=description, reply_text=reply_text, actions=actions, visibility=visibility
    )
    if macro.shared and values["visibility"] == Macro.Visibility.PERSONAL:
        macro.owner = actor  # a shared macro made personal becomes the admin's own, not the creator's
    for field, value in values.items():
        setattr(macro, field, value)
    macro.save()
    return macro


@transaction.atomic
def macro_delete(*, macro: Macro, actor) -> None:
    if not macro_editable(macro, actor):
        raise PermissionDenied("Only helpdesk admins can delete shared macros.")
    macro.delete()


@transaction.atomic
def macro_apply(*, macro: Macro, ticket: Ticket, actor) -> TicketActionResult:
    """Applies the macro's actions to the ticket (source "macro:<id>") and counts the use. Called when the reply it
    filled in is sent, in that reply's transaction, or on its own from the ticket's macro menu."""
    if macro.actions:
        try:
            result = ticket_actions.ticket_actions_apply(
                ticket_id=ticket.pk, actions=macro.actions, actor_id=actor.pk, source=macro_source(macro)
            )
        except ValidationError as error:
            raise ValidationError(
                {"macro": [f"The macro “{macro.name}” cannot be applied: {' '.join(error.messages)}"]}
            ) from None
    else:
        result = TicketActionResult(ticket_id=ticket.pk, changes=(), note_added=False)
    Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1, last_used_at=timezone.now())
    MacroUse.objects.create(macro=macro, user=actor, ticket=ticket)
    return result
