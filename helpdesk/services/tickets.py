"""Writing tickets: create, edit (checked against the version the editor saw), assign, status, merge, messages.

Every write bumps `Ticket.version`, records a `TicketEvent` and, after commit, tells the live layer
(helpdesk.live) so lists and open tickets update in place. Callers pass `actor` (a user, or None for the
system / the requester) and get `ValidationError`s with messages a person understands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import zip_longest
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.uploads import CheckedUpload
from core.validation import required_text, valid_choice, validate_international_email
from customers.facade import Contact, contact_for_email

from .. import live, outgoing, webhook_events
from ..contracts import MESSAGE_CREATED, TICKET_SOLVED, TICKET_UPDATED
from ..models import Attachment, Category, Team, Ticket, TicketEvent, TicketMessage
from ..selectors.config import helpdesk_settings_get
from ..validators import normalize_addresses, normalize_tags, validate_attachments
from . import csat, intake, mentions, sla, ticket_ai

MAX_SUBJECT = 200
MAX_BODY = 50_000
EDITABLE_FIELDS = frozenset({"subject", "original_description", "priority", "type", "category", "team", "tags"})


class StaleTicket(ValidationError):
    """Someone else changed the ticket since the editor loaded it: nothing was saved."""


# --- Helpers ------------------------------------------------------------------------------------


def _event(ticket: Ticket, kind: str, actor=None, **data: Any) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, kind=kind, actor=actor, data=data)


def _source(source: str) -> dict[str, str]:
    """`source` ("macro:3", "rule:12": what made the change for the actor, or for the system) as event and webhook
    data; nothing when a person made the change by hand."""
    return {"source": source} if source else {}


def _bump(ticket: Ticket, fields: Iterable[str]) -> None:
    """Saves `fields` and the next version in one UPDATE (the in-memory ticket gets the new version)."""
    ticket.version = F("version") + 1
    ticket.save(update_fields=[*fields, "version", "updated"])
    ticket.refresh_from_db(fields=["version"])


def _check_version(ticket: Ticket, expected_version: int | None) -> None:
    """Locks the row; refuses the write if the editor's copy is older than the row."""
    current = Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("version", flat=True).first()
    if expected_version is not None and current != expected_version:
        raise StaleTicket(
            "Someone else changed this ticket while you were editing it. Reload to see their change, then try again."
        )


def _save_attachments(
    message: TicketMessage, files: Sequence[CheckedUpload], content_ids: Sequence[str] = ()
) -> list[Attachment]:
    """Stored under their clean names, with the content type their bytes were verified to be. `content_ids`,
    aligned with `files`, marks an email's inline images."""
    saved = []
    for upload, content_id in zip_longest(files, content_ids, fillvalue=""):
        attachment = Attachment(
            message=message,
            filename=upload.name[:200],
            content_type=upload.content_type,
            size=upload.size,
            content_id=content_id[:255],
        )
        attachment.file.save(upload.name, upload.file, save=False)
        attachment.save()
        saved.append(attachment)
    return saved


# --- Create -------------------------------------------------------------------------------------


@transaction.atomic
def ticket_create(
    *,
    subject: str,
    description: str,
    actor=None,
    requester: Contact | None = None,
    requester_email: str = "",
    requester_name: str = "",
    channel: str = Ticket.Channel.WEB,
    priority: str = Ticket.Priority.NORMAL,
    type: str = Ticket.Type.QUESTION,
    category: Category | None = None,
    assignee=None,
    team: Team | None = None,
    tags: Iterable[str] | str = (),
    attachments: Sequence[UploadedFile] = (),
    content_ids: Sequence[str] = (),
    cc: Iterable[str] = (),
    external_id: str = "",
    created=None,
) -> Ticket:
    """A new ticket. The requester is a contact, or an email address (an unknown address becomes a contact)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for field, label, limit, raw in (
        ("subject", "The subject", MAX_SUBJECT, subject),
        ("description", "The description", MAX_BODY, description),
    ):
        try:
            values[field] = required_text(raw, field=field, label=label, limit=limit)
        except ValidationError as error:
            errors.update(error.message_dict)
    if requester is None and not (requester_email or "").strip():
        errors["requester_email"] = ["Say who the ticket is for: a requester's email address."]
    if errors:
        raise ValidationError(errors)
    files = validate_attachments(attachments)
    if requester is None:
        requester = _requester(requester_email, requester_name, actor)
    now = timezone.now()
    ticket = Ticket(
        subject=values["subject"],
        original_description=values["description"],
        requester=requester,
        customer=requester.customer,
        channel=valid_choice(channel, Ticket.Channel, "channel"),
        priority=valid_choice(priority, Ticket.Priority, "priority"),
        type=valid_choice(type, Ticket.Type, "type"),
        category=category,
        assignee=assignee,
        team=team,
        status=Ticket.Status.OPEN if assignee else Ticket.Status.NEW,
        tags=normalize_tags(tags),
        cc=sorted({address.strip().lower() for address in cc if address.strip()}),
        created=created or now,
        last_customer_message_at=created or now,
        # Shown as "queued" until the analysis (queued by the intake) arrives.
        ai_analysis_status=Ticket.AnalysisStatus.PENDING if helpdesk_settings_get().analysis_enabled else "",
    )
    sla.ticket_sla_refresh(ticket, now=now, save=False)  # the clocks go in with the INSERT
    ticket.save(force_insert=True)
    if files:
        opening = TicketMessage.objects.create(
            ticket=ticket,
            body="Attachments sent with the ticket.",
            author=actor if channel == Ticket.Channel.WEB else None,
            author_contact=None if channel == Ticket.Channel.WEB else requester,
            kind=TicketMessage.Kind.NOTE if channel == Ticket.Channel.WEB else TicketMessage.Kind.REPLY,
            channel=channel,
            external_id=external_id,
        )
        _save_attachments(opening, files, content_ids)
    _event(ticket, TicketEvent.Kind.CREATED, actor, channel=channel)
    intake.intake_on_commit(ticket, actor=actor)
    return ticket


def _requester(email: str, name: str, actor) -> Contact:
    email = email.strip()
    try:
        validate_international_email(email)
    except ValidationError as error:
        raise ValidationError({"requester_email": f"“{email}” is not an email address."}) from error
    return contact_for_email(email=email, name=name, actor=actor)


# --- Edit ---------------------------------------------------------------------------------------


@transaction.atomic
def ticket_update(
    *, ticket: Ticket, actor, data: Mapping[str, Any], expected_version: int | None = None, source: str = ""
) -> Ticket:
    """Changes the given fields; refuses (StaleTicket) when the ticket moved on since `expected_version`.
    `source` (here and below) names the macro or rule that made the change, in the history and the webhook."""
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    _check_version(ticket, expected_version)
    ticket.refresh_from_db()
    changes = {}
    for field, value in _clean_update(data).items():
        old = getattr(ticket, field)
        if old != value:
            changes[field] = [_display(old), _display(value)]
            setattr(ticket, field, value)
    if not changes:
        return ticket
    _bump(ticket, changes)
    if "priority" in changes:
        sla.ticket_sla_refresh(ticket)
    _event(ticket, TicketEvent.Kind.UPDATED, actor, changes=changes, **_source(source))
    live.ticket_changed(ticket, actor=actor, changes=changes)
    webhook_events.ticket_event_on_commit(TICKET_UPDATED, ticket, changes=changes, actor=actor, **_source(source))
    return ticket


def _clean_update(data: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = dict(data)
    if "subject" in cleaned:
        cleaned["subject"] = required_text(cleaned["subject"], field="subject", label="The subject", limit=MAX_SUBJECT)
    if "original_description" in cleaned:
        cleaned["original_description"] = required_text(
            cleaned["original_description"], field="original_description", label="The description", limit=MAX_BODY
        )
    if "priority" in cleaned:
        valid_choice(cleaned["priority"], Ticket.Priority, "priority")
    if "type" in cleaned:
        valid_choice(cleaned["type"], Ticket.Type, "type")
    if "tags" in cleaned:
        cleaned["tags"] = normalize_tags(cleaned["tags"])
    return cleaned


def _display(value: Any) -> Any:
    if hasattr(value, "pk"):
        return str(value)
    return value


@transaction.atomic
def ticket_assign(
    *,
    ticket: Ticket,
    assignee,
    actor,
    team: Team | None = None,
    reason: str = "",
    expected_version: int | None = None,
    source: str = "",
) -> Ticket:
    """Gives the ticket to `assignee` (None: unassigned) and optionally a team; a new ticket becomes open."""
    _check_version(ticket, expected_version)
    ticket.refresh_from_db()
    if assignee is not None and not getattr(assignee, "is_active", False):
        raise ValidationError({"assignee": f"{assignee} is deactivated and cannot take tickets."})
    changes = {}
    if ticket.assignee_id != getattr(assignee, "pk", None):
        changes["assignee"] = [_display(ticket.assignee), _display(assignee)]
        ticket.assignee = assignee
    if team is not None and ticket.team_id != team.pk:
        changes["team"] = [_display(ticket.team), _display(team)]
        ticket.team = team
    if not changes:
        return ticket
    fields = [name for name in ("assignee", "team") if name in changes]
    if assignee is not None and ticket.status == Ticket.Status.NEW:
        ticket.status = Ticket.Status.OPEN
        fields.append("status")
    _bump(ticket, fields)
    _event(
        ticket,
        TicketEvent.Kind.ASSIGNED,
        actor,
        changes=changes,
        **({"reason": reason} if reason else {}),
        **_source(source),
    )
    live.ticket_assigned(ticket, actor=actor)
    webhook_events.ticket_event_on_commit(TICKET_UPDATED, ticket, changes=changes, actor=actor, **_source(source))
    return ticket


@transaction.atomic
def ticket_status_set(
    *, ticket: Ticket, status: str, actor, expected_version: int | None = None, source: str = ""
) -> Ticket:
    valid_choice(status, Ticket.Status, "status")
    _check_version(ticket, expected_version)
    ticket.refresh_from_db()
    if ticket.status == status:
        return ticket
    if ticket.merged_into_id and status in Ticket.OPEN_STATUSES:
        raise ValidationError({"status": f"This ticket was merged into #{ticket.merged_into_id}; reopen that one."})
    old = ticket.status
    now = timezone.now()
    ticket.status = status
    fields = ["status"]
    if status == Ticket.Status.SOLVED:
        ticket.solved_at = now
        fields.append("solved_at")
        csat.survey_send(ticket=ticket)  # the survey email leaves when this solve commits
    elif status == Ticket.Status.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
        fields += ["closed_at", "solved_at"]
    elif old in Ticket.DONE_STATUSES:
        ticket.solved_at = ticket.closed_at = None
        fields += ["solved_at", "closed_at"]
    _bump(ticket, fields)
    sla.ticket_sla_refresh(ticket)
    kind = TicketEvent.Kind.REOPENED if old in Ticket.DONE_STATUSES and status in Ticket.OPEN_STATUSES else None
    _event(ticket, kind or TicketEvent.Kind.STATUS, actor, changes={"status": [old, status]}, **_source(source))
    ticket_ai.ticket_status_changed(ticket, old=old)  # solved tickets feed "similar solved tickets"
    live.ticket_changed(ticket, actor=actor, changes={"status": [old, status]})
    event = TICKET_SOLVED if status == Ticket.Status.SOLVED else TICKET_UPDATED
    webhook_events.ticket_event_on_commit(
        event, ticket, changes={"status": [old, status]}, actor=actor, **_source(source)
    )
    return ticket


# --- Messages -----------------------------------------------------------------------------------


@transaction.atomic
def message_add(
    *,
    ticket: Ticket,
    actor,
    body: str,
    kind: str = TicketMessage.Kind.REPLY,
    attachments: Sequence[UploadedFile] = (),
    status: str | None = None,
    ai_run_id: int | None = None,
    to: Iterable[str] | str | None = None,
    cc: Iterable[str] | str | None = None,
    bcc: Iterable[str] | str | None = None,
    source: str = "",
) -> TicketMessage:
    """An agent's public reply or internal note; `status` optionally changes the ticket in the same step.

    `to`/`cc`/`bcc` are a public reply's recipients as the agent chose them (left out: the requester and the
    ticket's CCs); an address new to `cc` joins the ticket's CCs, so it gets the later replies too.
    """
    body = required_text(body, field="body", label="The message", limit=MAX_BODY)
    valid_choice(kind, TicketMessage.Kind, "kind")
    files = validate_attachments(attachments)
    recipients = _recipients(kind, ticket.channel, to=to, cc=cc, bcc=bcc)
    _check_version(ticket, None)
    ticket.refresh_from_db()
    now = timezone.now()
    message = TicketMessage.objects.create(
        ticket=ticket, kind=kind, body=body, author=actor, channel=Ticket.Channel.WEB, ai_run_id=ai_run_id, **recipients
    )
    _save_attachments(message, files)
    fields = []
    added_cc = [address for address in recipients["cc"] if address not in ticket.cc]
    if added_cc:
        ticket.cc = [*ticket.cc, *added_cc]
        fields.append("cc")
    if kind == TicketMessage.Kind.REPLY:
        ticket.last_agent_message_at = now
        fields.append("last_agent_message_at")
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
            fields.append("first_responded_at")
        if ticket.status == Ticket.Status.NEW:
            ticket.status = Ticket.Status.OPEN
            fields.append("status")
    _bump(ticket, fields)
    if kind == TicketMessage.Kind.REPLY:
        sla.ticket_sla_refresh(ticket)
    kind_event = TicketEvent.Kind.REPLIED if kind == TicketMessage.Kind.REPLY else TicketEvent.Kind.NOTED
    _event(ticket, kind_event, actor, message_id=message.pk, **_source(source))
    live.message_added(ticket, message, actor=actor)
    mentions.mentions_notify(ticket=ticket, message=message, actor=actor)  # @teammates in a note are told
    if kind == TicketMessage.Kind.REPLY:
        outgoing.reply_publish_on_commit(ticket, message)
        webhook_events.ticket_event_on_commit(MESSAGE_CREATED, ticket, message=message, actor=actor, **_source(source))
    ticket_ai.reply_feedback_record(message, actor=actor)  # a reply sent from an AI suggestion rates it
    if status and status != ticket.status:
        ticket_status_set(ticket=ticket, status=status, actor=actor, source=source)
    return message


# Channels that carry one conversation with one person: a reply there has no CC or BCC.
SINGLE_RECIPIENT_CHANNELS = frozenset({Ticket.Channel.CHAT, Ticket.Channel.SMS})


def _recipients(kind: str, channel: str, *, to, cc, bcc) -> dict[str, list[str]]:
    """The checked recipients of a message: none for a note (it is never sent), none to choose on chat or SMS."""
    if kind != TicketMessage.Kind.REPLY:
        return {"to": [], "cc": [], "bcc": []}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, list[str]] = {}
    for field, value in (("to", to), ("cc", cc), ("bcc", bcc)):
        try:
            cleaned[field] = normalize_addresses(value, field=field)
        except ValidationError as error:
            errors.update(error.message_dict)
    if channel in SINGLE_RECIPIENT_CHANNELS:
        # The inbox answers on the chat or phone number the customer used: there is no address to choose.
        for field in ("to", "cc", "bcc"):
            if cleaned.get(field):
                errors[field] = [
                    f"A reply by {Ticket.Channel(channel).label} goes to the customer alone: no addresses."
                ]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def customer_message_add(
    *,
    ticket: Ticket,
    body: str,
    contact: Contact | None = None,
    channel: str = Ticket.Channel.HELP_CENTER,
    attachments: Sequence[UploadedFile] = (),
    content_ids: Sequence[str] = (),
    external_id: str = "",
) -> TicketMessage:
    """The requester writes (help center, email, chat, SMS): the ticket reopens if it was pending or solved."""
    body = required_text(body, field="body", label="The message", limit=MAX_BODY)
    files = validate_attachments(attachments)
    _check_version(ticket, None)
    ticket.refresh_from_db()
    if ticket.status == Ticket.Status.CLOSED:
        raise ValidationError({"body": "This request is closed; please open a new one."})
    message = TicketMessage.objects.create(
        ticket=ticket,
        kind=TicketMessage.Kind.REPLY,
        body=body,
        author_contact=contact or ticket.requester,
        channel=channel,
        external_id=external_id,
    )
    _save_attachments(message, files, content_ids)
    old = ticket.status
    ticket.last_customer_message_at = message.created
    fields = ["last_customer_message_at"]
    if old in (Ticket.Status.PENDING, Ticket.Status.SOLVED):
        ticket.status = Ticket.Status.OPEN
        ticket.solved_at = None
        # The automatic answer did not settle it: the flag describes the current solve (the history keeps the rest).
        ticket.auto_closed = False
        fields += ["status", "solved_at", "auto_closed"]
    _bump(ticket, fields)
    sla.ticket_sla_refresh(ticket)
    _event(ticket, TicketEvent.Kind.CUSTOMER_REPLIED, None, message_id=message.pk)
    if old != ticket.status:
        _event(ticket, TicketEvent.Kind.REOPENED, None, changes={"status": [old, ticket.status]})
    ticket_ai.analysis_queue(ticket)
    live.customer_replied(ticket, message)
    webhook_events.ticket_event_on_commit(MESSAGE_CREATED, ticket, message=message)
    return message


# --- Bulk and merge -----------------------------------------------------------------------------


@transaction.atomic
def tickets_bulk_update(
    *, tickets: Sequence[Ticket], actor, status: str | None = None, assignee=..., add_tags: Iterable[str] = ()
) -> int:
    """Applies the same change to every ticket, all or none; returns how many changed.

    `assignee=None` unassigns; leaving it out (`...`) keeps each ticket's assignee.
    """
    tags = normalize_tags(add_tags)
    if status is not None:
        valid_choice(status, Ticket.Status, "status")
    changed = 0
    for ticket in tickets:
        before = ticket.version
        if assignee is not ...:
            ticket = ticket_assign(ticket=ticket, assignee=assignee, actor=actor)
        if status is not None:
            ticket = ticket_status_set(ticket=ticket, status=status, actor=actor)
        if tags:
            ticket = ticket_update(ticket=ticket, actor=actor, data={"tags": [*ticket.tags, *tags]})
        changed += ticket.version != before
    return changed


@transaction.atomic
def tickets_merge(*, target: Ticket, sources: Sequence[Ticket], actor) -> Ticket:
    """Moves the sources' messages into `target`, notes where they came from and closes the sources."""
    sources = [source for source in sources if source.pk != target.pk]
    if not sources:
        raise ValidationError({"tickets": "Choose at least one other ticket to merge into this one."})
    if target.status == Ticket.Status.CLOSED:
        raise ValidationError({"tickets": f"#{target.pk} is closed; merge into an open ticket."})
    for source in sources:
        TicketMessage.objects.filter(ticket=source).update(ticket=target)
        TicketMessage.objects.create(
            ticket=target,
            kind=TicketMessage.Kind.NOTE,
            author=actor,
            body=f"Merged from #{source.pk} “{source.subject}”:\n\n{source.original_description}",
        )
        source.merged_into = target
        source.status = Ticket.Status.CLOSED
        source.closed_at = source.solved_at = timezone.now()
        _bump(source, ["merged_into", "status", "closed_at", "solved_at"])
        _event(source, TicketEvent.Kind.MERGED, actor, into=target.pk)
    _bump(target, [])
    _event(target, TicketEvent.Kind.MERGED, actor, sources=[source.pk for source in sources])
    live.ticket_changed(target, actor=actor, changes={"merged": [None, [source.pk for source in sources]]})
    return target
