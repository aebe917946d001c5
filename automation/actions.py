"""What a rule can do, one registry: each action type with its label, the kind of value the builder asks for, the
objects it applies to, and how it runs (always through another app's facade).

Ticket changes (fields, assignment, tags, notes) are the helpdesk's own ticket actions
(`helpdesk.facade.actions.ticket_actions_apply`), applied together in one call per rule so the ticket changes once.
Every other action runs on its own: a failing one is written on the run and the next one still runs.

"Notify people" tells teammates through `notifications.facade.notify` (the event "automation.notice"), on the
channels each chose; who is told is named by role (the assignee, the team's lead, the owner…) or by person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse

import ai.facade as ai
from accounts import facade as accounts
from core.placeholders import placeholders_malformed, placeholders_render
from helpdesk.facade import actions as helpdesk_actions
from helpdesk.facade import automation as helpdesk_automation
from inbox import facade as inbox
from notifications import facade as notifications

from .catalog import CUSTOMER, DETAIL_URLS, LEAD, QUOTE, TICKET
from .sources import values_for

logger = logging.getLogger(__name__)
ALL_OBJECTS = (TICKET, LEAD, QUOTE, CUSTOMER)
# Inbox's kind for a rule's email: an automatic one (inbox.models.OutboundEmail.Kind; no migration of its own).
EMAIL_KIND = "auto_response"


@dataclass(frozen=True)
class ActionContext:
    """What an action runs on: the object, the event, who the change is made for (`source`), and a dry run."""

    rule_id: int
    event: str
    object_type: str
    object_id: int
    record: Mapping[str, Any]
    placeholders: Mapping[str, Any]
    dry_run: bool = False
    depth: int = 0

    @property
    def source(self) -> str:
        """ "rule:<id>", and ":<depth>" when the rule ran on a rule-caused event: the events this change causes are
        one level deeper (engine.source_depth)."""
        return f"rule:{self.rule_id}" if not self.depth else f"rule:{self.rule_id}:{self.depth}"


@dataclass(frozen=True)
class ActionOutcome:
    """One action's line in the run log: what it did (or would do) and any changed fields."""

    action: str
    label: str
    detail: str = ""
    changes: tuple[dict[str, Any], ...] = ()
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "label": self.label,
            "detail": self.detail,
            "changes": list(self.changes),
            "error": self.error,
        }


@dataclass(frozen=True)
class ActionType:
    type: str
    label: str
    value_kind: str  # choice | user | team | tags | text | none | email | sms | webhook | language
    object_types: tuple[str, ...]
    run: Callable[[ActionContext, Any], ActionOutcome] | None = None  # None: a ticket action (helpdesk)
    choices: tuple[tuple[str, str], ...] = field(default=())
    group: str = "Other"


_REGISTRY: dict[str, ActionType] = {}


def action_register(action: ActionType) -> None:
    _REGISTRY[action.type] = action


def action_types(object_type: str | None = None) -> list[ActionType]:
    """Every action, the helpdesk's ticket actions first, then automation's own and those others registered."""
    found: list[ActionType] = []
    for spec in helpdesk_actions.ticket_action_specs():
        found.append(
            ActionType(
                spec.type,
                spec.label,
                spec.value_kind,
                (TICKET,),
                None,
                tuple((str(v), str(lbl)) for v, lbl in (spec.choices or ())),
                "Ticket",
            )
        )
    found.extend(_REGISTRY.values())
    return [action for action in found if object_type is None or object_type in action.object_types]


def action_type(type_: str) -> ActionType | None:
    return next((action for action in action_types() if action.type == type_), None)


def validate_actions(actions: Sequence[Mapping[str, Any]], object_type: str) -> list[dict[str, Any]]:
    """The rule's actions checked against the registry (unknown type, wrong object, missing value)."""
    known = {action.type: action for action in action_types(object_type)}
    cleaned = []
    for index, item in enumerate(actions):
        spec = known.get(item.get("type", ""))
        if spec is None:
            raise ValidationError(f"Action {index + 1}: “{item.get('type')}” cannot be done on a {object_type}.")
        value = item.get("value")
        if spec.value_kind not in ("none", "user") and value in (None, "", [], {}):
            raise ValidationError(f"Action {index + 1} ({spec.label}) needs a value.")
        for text in _texts(value):
            if placeholders_malformed(text):
                raise ValidationError(
                    f"Action {index + 1}: {', '.join(placeholders_malformed(text))} is not a placeholder; "
                    "write {{ ticket.subject }}."
                )
        cleaned.append({"type": spec.type, **({"value": value} if spec.value_kind != "none" else {})})
    ticket_actions = [item for item in cleaned if item["type"] not in _REGISTRY]
    if ticket_actions:
        helpdesk_actions.ticket_actions_validate(ticket_actions)
    return cleaned


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for text in value.values() if isinstance(text, str)]
    return []


def actions_run(context: ActionContext, actions: Sequence[Mapping[str, Any]]) -> list[ActionOutcome]:
    """Runs a rule's actions: the ticket actions together (one change of the ticket), then each other in order.
    Never raises: a failure is an outcome with `error`."""
    outcomes: list[ActionOutcome] = []
    ticket_actions = [a for a in actions if a.get("type") not in _REGISTRY]
    if ticket_actions and context.object_type == TICKET:
        outcomes.append(_ticket_actions(context, ticket_actions))
    for item in actions:
        spec = _REGISTRY.get(item.get("type", ""))
        if spec is None or spec.run is None:
            continue
        try:
            outcomes.append(spec.run(context, item.get("value")))
        except Exception as error:  # one action's failure is logged on the run, the others still run
            if not isinstance(error, ValidationError | ai.AIUnavailable):
                logger.exception(
                    "rule %s: %s failed on %s %s", context.rule_id, spec.type, context.object_type, context.object_id
                )
            outcomes.append(ActionOutcome(spec.type, spec.label, error=_error_text(error)))
    return outcomes


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return f"{type(error).__name__}: {error}"[:500]


def _ticket_actions(context: ActionContext, actions: list[Mapping[str, Any]]) -> ActionOutcome:
    label = "Change the ticket"
    try:
        result = helpdesk_actions.ticket_actions_apply(
            ticket_id=context.object_id,
            actions=actions,
            actor_id=None,
            source=context.source,
            dry_run=context.dry_run,
        )
    except Exception as error:
        if not isinstance(error, ValidationError):
            logger.exception("rule %s: ticket actions failed on #%s", context.rule_id, context.object_id)
        return ActionOutcome("ticket", label, error=_error_text(error))
    changes = tuple(
        {"field": c.field, "label": c.label, "before": _plain(c.before), "after": _plain(c.after)}
        for c in result.changes
    )
    detail = "Added an internal note." if getattr(result, "note_added", False) else ""
    if not changes and not detail:
        detail = "Nothing to change."
    return ActionOutcome("ticket", label, detail=detail, changes=changes)


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return "" if value is None else str(value)


# --- Automation's own actions ---------------------------------------------------------------------------


def _render(text: str, context: ActionContext) -> str:
    return placeholders_render(text or "", context.placeholders)


def _send_email(context: ActionContext, value: Mapping[str, Any]) -> ActionOutcome:
    to = _render(value.get("to") or "", context).strip() or _render("{{ ticket.requester.email }}", context)
    subject, body = _render(value.get("subject", ""), context), _render(value.get("body", ""), context)
    recipients = inbox.email_addresses_parse(to)
    if context.dry_run:
        return ActionOutcome("send_email", "Send an email", detail=f"Would email {', '.join(recipients)}: {subject}")
    inbox.email_queue(
        to=recipients,
        subject=subject,
        body=body,
        kind=EMAIL_KIND,
        reference=f"automation:{context.rule_id}:{context.object_type}:{context.object_id}",
    )
    return ActionOutcome("send_email", "Send an email", detail=f"Emailed {', '.join(recipients)}: {subject}")


def _send_sms(context: ActionContext, value: Mapping[str, Any]) -> ActionOutcome:
    to = _render(value.get("to") or "", context).strip()
    body = _render(value.get("body", ""), context)
    if context.dry_run:
        return ActionOutcome("send_sms", "Send an SMS", detail=f"Would text {to}")
    ticket_id = context.object_id if context.object_type == TICKET else None
    inbox.sms_queue(to=to, body=body, ticket_id=ticket_id)
    return ActionOutcome("send_sms", "Send an SMS", detail=f"Texted {to}")


def _call_webhook(context: ActionContext, value: Any) -> ActionOutcome:
    subscription_id = int(value.get("webhook") if isinstance(value, Mapping) else value)
    record = context.record
    if context.object_type == TICKET:  # every field, not only those the rule's conditions read
        record = helpdesk_automation.ticket_automation_values([context.object_id]).get(context.object_id, record)
    data = {
        "rule_id": context.rule_id,
        "trigger": context.event,
        "object_type": context.object_type,
        "object_id": context.object_id,
        context.object_type: dict(record),
    }
    if context.dry_run:
        return ActionOutcome("call_webhook", "Call a webhook", detail=f"Would call webhook {subscription_id}")
    ticket_id = context.object_id if context.object_type == TICKET else None
    delivery = inbox.webhook_send(
        subscription_id=subscription_id, event="automation.rule", data=_json(data), ticket_id=ticket_id
    )
    return ActionOutcome("call_webhook", "Call a webhook", detail=f"Webhook delivery {delivery} queued")


def _json(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {str(key): _json(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_json(item) for item in data]
    return data if data is None or isinstance(data, str | int | float | bool) else str(data)


def _note(context: ActionContext, text: str, label: str, type_: str) -> ActionOutcome:
    outcome = _ticket_actions(context, [{"type": "add_note", "value": text}])
    return ActionOutcome(type_, label, detail=outcome.detail, changes=outcome.changes, error=outcome.error)


def _ai_classify(context: ActionContext, value: Any) -> ActionOutcome:
    if context.dry_run:
        return ActionOutcome("ai_classify", "AI: classify", detail="Would run the AI analysis")
    found = helpdesk_automation.ticket_classify(ticket_id=context.object_id)
    shown = ", ".join(f"{kind}: {value}" for kind, value in found.items() if value not in (None, "")) or "no change"
    return ActionOutcome("ai_classify", "AI: classify", detail=f"Suggested {shown}")


def _ai_draft(context: ActionContext, value: Any) -> ActionOutcome:
    if context.dry_run:
        return ActionOutcome("ai_draft_reply", "AI: draft a reply for review", detail="Would draft a reply")
    text = helpdesk_automation.ticket_reply_draft(ticket_id=context.object_id)
    if text is None:
        return ActionOutcome(
            "ai_draft_reply",
            "AI: draft a reply for review",
            detail="Nothing in the knowledge base matched well enough to draft from.",
        )
    return ActionOutcome("ai_draft_reply", "AI: draft a reply for review", detail="Draft ready for an agent to review")


def _ai_summarize(context: ActionContext, value: Any) -> ActionOutcome:
    label = "AI: summarise into a note"
    if context.dry_run:
        return ActionOutcome("ai_summarize", label, detail="Would add a summary as an internal note")
    summary = ai.summarize(helpdesk_automation.ticket_text(context.object_id))
    return _note(context, f"**AI summary**\n\n{summary.text}", label, "ai_summarize")


def _ai_translate(context: ActionContext, value: Any) -> ActionOutcome:
    language = str(value or "en")
    label = "AI: translate into a note"
    if context.dry_run:
        return ActionOutcome("ai_translate", label, detail=f"Would add a translation into {language}")
    text = helpdesk_automation.ticket_text(context.object_id)
    result = ai.generate("automation_translate", {"text": text, "language": language})
    return _note(context, f"**AI translation ({language})**\n\n{result.text}", label, "ai_translate")


def _ai_improve(context: ActionContext, value: Any) -> ActionOutcome:
    label = "AI: improve the description"
    if context.dry_run:
        return ActionOutcome("ai_improve_description", label, detail="Would suggest a clearer description")
    rewrite = ai.rewrite(helpdesk_automation.ticket_text(context.object_id), style="ticket")
    if getattr(rewrite, "nothing_to_improve", False):
        return ActionOutcome("ai_improve_description", label, detail="Nothing to improve.")
    return _note(
        context,
        f"**Suggested description** (for an agent to review)\n\n{rewrite.text}",
        label,
        "ai_improve_description",
    )


# --- Notify people ------------------------------------------------------------------------------------------

NOTICE_EVENT = "automation.notice"
# Who a notice goes to, by role; a person is "user:<id>". Roles an object lacks (a lead has no team) are skipped.
RECIPIENT_ROLES = (
    ("assignee", "The assignee"),
    ("team_lead", "The team's lead"),
    ("team", "Everyone in the team"),
    ("followers", "Its followers"),
    ("owner", "The owner (lead, quote)"),
)


def notice_event_type_register() -> None:
    """The notice a rule sends (AutomationConfig.ready): people choose its channels like any other notification."""
    notifications.event_type_register(
        notifications.EventType(
            NOTICE_EVENT,
            "Automation notice",
            "An automation rule asks you to look at a ticket, lead, quote or company.",
            default_channels=(notifications.IN_APP, notifications.EMAIL),
            sample_context={"notice": {"subject": "#42 Printer on fire", "message": "Urgent and unassigned."}},
            title="{{ notice.subject }}",
            body="{{ notice.message }}",
        )
    )


def object_path(object_type: str, object_id: int) -> str:
    return reverse(DETAIL_URLS[object_type], args=[object_id])


def _notice_people(context: ActionContext, people: Sequence[str]) -> list[int]:
    record = values_for(context.object_type, [context.object_id]).get(context.object_id, {})
    found: list[int] = []
    for who in people:
        if who.startswith("user:") and who[5:].isdigit():
            found.append(int(who[5:]))
        elif who in ("assignee", "owner") and str(record.get(who) or "").isdigit():
            found.append(int(record[who]))
        elif who in ("team_lead", "team") and str(record.get("team") or "").isdigit():
            lead, members = helpdesk_automation.team_people(int(record["team"]))
            found.extend(([lead] if lead else []) if who == "team_lead" else members)
        elif who == "followers":
            found.extend(notifications.followers(object_type=context.object_type, object_id=context.object_id))
    return list(dict.fromkeys(found))


def _notice_subject(context: ActionContext) -> str:
    own = context.placeholders.get(context.object_type) or {}
    title = own.get("subject") or own.get("title") or own.get("name") or ""
    return f"{context.object_type.capitalize()} #{context.object_id}" + (f" {title}" if title else "")


def _notify(context: ActionContext, value: Mapping[str, Any]) -> ActionOutcome:
    label = "Notify people"
    people = _notice_people(context, value.get("people") or [])
    names = ", ".join(accounts.user_names(people).values()) or "nobody"
    if context.dry_run or not people:
        return ActionOutcome(
            "notify_people", label, detail=f"{'Would notify' if context.dry_run else 'Notified'} {names}"
        )
    subject = _notice_subject(context)
    message = _render(value.get("message") or "", context) or subject
    notifications.notify(
        recipients=people,
        event=NOTICE_EVENT,
        context={**context.placeholders, "notice": {"subject": subject, "message": message}},
        link=object_path(context.object_type, context.object_id),
    )
    return ActionOutcome("notify_people", label, detail=f"Notified {names}")


LANGUAGES = (
    ("en", "English"),
    ("de", "German"),
    ("fr", "French"),
    ("es", "Spanish"),
    ("it", "Italian"),
    ("nl", "Dutch"),
    ("pt", "Portuguese"),
)

for _action in (
    ActionType("send_email", "Send an email", "email", ALL_OBJECTS, _send_email, group="Messages"),
    ActionType("send_sms", "Send an SMS", "sms", ALL_OBJECTS, _send_sms, group="Messages"),
    ActionType("call_webhook", "Call a webhook", "webhook", ALL_OBJECTS, _call_webhook, group="Messages"),
    ActionType("notify_people", "Notify people", "recipients", ALL_OBJECTS, _notify, RECIPIENT_ROLES, "Messages"),
    ActionType("ai_classify", "AI: classify", "none", (TICKET,), _ai_classify, group="AI"),
    ActionType("ai_draft_reply", "AI: draft a reply for review", "none", (TICKET,), _ai_draft, group="AI"),
    ActionType("ai_summarize", "AI: summarise into a note", "none", (TICKET,), _ai_summarize, group="AI"),
    ActionType("ai_translate", "AI: translate into a note", "choice", (TICKET,), _ai_translate, LANGUAGES, "AI"),
    ActionType("ai_improve_description", "AI: improve the description", "none", (TICKET,), _ai_improve, group="AI"),
):
    action_register(_action)
