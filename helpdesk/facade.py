"""What other apps may ask of the helpdesk: open a ticket or add a customer's message from a channel (email,
chat, SMS, API), look a ticket up for threading, report how a delivery went, and listen for the public messages a
customer must receive (`outgoing_message`, in helpdesk.contracts). Writes go through helpdesk.services."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import BooleanField, F, Func, Subquery
from django.urls import reverse
from django.utils import timezone

from customers.contracts import TimelineEntry, TimelineKind, TimelineProvider, TimelineQuery
from customers.facade import contact_for_email, contact_queryset
from customers.facade import timeline_provider_register as timeline_provider_register_with_customers

from . import live
from .contracts import InboundAttachment, ReceivedMessage, TicketSummary, outgoing_message
from .models import Attachment, DeliveryStatus, SatisfactionSurvey, Ticket, TicketMessage
from .outgoing import outgoing_collected
from .services import help_center
from .services import tickets as ticket_services
from .validators import validate_attachments

__all__ = [
    "DELIVERY_STATUSES",
    "attachment_open",
    "attachments_screen",
    "message_delivery_set",
    "message_external_id_set",
    "message_for_external_id",
    "message_receive",
    "outgoing_collected",
    "outgoing_message",
    "ticket_for_external_ids",
    "ticket_open",
    "ticket_summary",
]

DELIVERY_STATUSES = tuple(DeliveryStatus.values)


def ticket_summary(ticket_id: int) -> TicketSummary | None:
    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id).first()
    if ticket is None:
        return None
    return TicketSummary(
        id=ticket.pk,
        subject=ticket.subject,
        status=ticket.status,
        channel=ticket.channel,
        requester_contact_id=ticket.requester_id,
        requester_email=ticket.requester.email,
        requester_name=ticket.requester.name,
        customer_id=ticket.customer_id,
        cc=tuple(ticket.cc),
    )


@transaction.atomic
def ticket_open(
    *,
    subject: str,
    body: str,
    sender_email: str = "",
    sender_name: str = "",
    channel: str,
    attachments: Sequence[InboundAttachment] = (),
    cc: Sequence[str] = (),
    external_id: str = "",
    sender_contact_id: int | None = None,
    auto_reply: bool = False,
) -> tuple[ReceivedMessage, list[str]]:
    """A new ticket from a customer's first message; an unknown sender becomes a contact.

    `sender_contact_id` names the sender when a channel knows them by something else than an email address (an
    SMS sender's phone number: customers.facade.contact_for_phone).
    Attachments the upload allow-list refuses are left out, and the reasons returned (the caller keeps the
    original message, so nothing is lost): one refused file never costs the customer their ticket.
    An emailed request is acknowledged by email, unless `auto_reply` says a machine wrote the message
    (an out-of-office, a mailing list): two robots must not answer each other for ever.
    """
    uploads, content_ids, refused = _accepted(attachments)
    ticket = ticket_services.ticket_create(
        subject=subject,
        description=body,
        requester=_sender_contact(sender_contact_id),
        requester_email=sender_email,
        requester_name=sender_name,
        channel=channel,
        attachments=uploads,
        content_ids=content_ids,
        cc=cc,
        external_id=external_id,
    )
    # ticket_create adds a thread entry only to carry the files sent with the ticket: without any, nothing to look up.
    opening = ticket.messages.order_by("id").values_list("pk", flat=True).first() if uploads else None
    if channel == Ticket.Channel.EMAIL and not auto_reply:
        help_center.request_acknowledge(ticket)
    return ReceivedMessage(ticket_id=ticket.pk, message_id=opening, created_ticket=True), refused


@transaction.atomic
def message_receive(
    *,
    ticket_id: int,
    body: str,
    sender_email: str = "",
    sender_name: str = "",
    channel: str,
    attachments: Sequence[InboundAttachment] = (),
    external_id: str = "",
    sender_contact_id: int | None = None,
) -> tuple[ReceivedMessage, list[str]]:
    """A customer's message on an existing ticket (it reopens a pending or solved one). Raises ValidationError
    when the ticket is gone or closed: the caller then opens a new ticket."""
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise ValidationError({"ticket": f"Ticket #{ticket_id} does not exist."})
    uploads, content_ids, refused = _accepted(attachments)
    contact = _sender_contact(sender_contact_id)
    if contact is None:
        contact = contact_for_email(email=sender_email, name=sender_name) if sender_email else ticket.requester
    message = ticket_services.customer_message_add(
        ticket=ticket,
        body=body,
        contact=contact,
        channel=channel,
        attachments=uploads,
        content_ids=content_ids,
        external_id=external_id,
    )
    return ReceivedMessage(ticket_id=ticket.pk, message_id=message.pk, created_ticket=False), refused


def _accepted(attachments: Sequence[InboundAttachment]) -> tuple[list[SimpleUploadedFile], list[str], list[str]]:
    uploads, content_ids, refused = [], [], []
    limit = settings.HELPDESK_ATTACHMENTS_PER_MESSAGE
    for attachment in attachments:
        if len(uploads) >= limit:  # the count limit would refuse them all: keep the first ones
            refused.append(f"{attachment.filename}: at most {limit} files are kept per message.")
            continue
        upload = SimpleUploadedFile(attachment.filename or "attachment", attachment.content, attachment.content_type)
        try:
            validate_attachments([upload])
        except ValidationError as error:
            refused.extend(error.messages)
            continue
        upload.seek(0)
        uploads.append(upload)
        content_ids.append(attachment.content_id)
    return uploads, content_ids, refused


def message_delivery_set(*, message_id: int, status: str, detail: str = "") -> bool:
    """Records how delivery of a public message went and shows it on the open ticket. False: no such message."""
    if status not in DELIVERY_STATUSES:
        raise ValueError(f"unknown delivery status {status!r}")
    updated = TicketMessage.objects.filter(pk=message_id).update(
        delivery_status=status, delivery_detail=detail[:500], delivery_updated=timezone.now()
    )
    if updated:
        message = TicketMessage.objects.select_related("ticket").get(pk=message_id)
        live.message_delivery_changed(message.ticket, message)
    return bool(updated)


def attachment_open(attachment_id: int):
    """The stored file of a ticket attachment, opened for reading (the caller closes it)."""
    attachment = Attachment.objects.get(pk=attachment_id)
    return attachment.file.open("rb")


def ticket_for_external_ids(external_ids: Sequence[str]) -> int | None:
    """The ticket one of these Message-IDs (or other channel ids) was received or sent as, newest first."""
    ids = [value.strip() for value in external_ids if value and value.strip()]
    if not ids:
        return None
    return (
        TicketMessage.objects.filter(external_id__in=ids)
        .order_by("-created", "-id")
        .values_list("ticket_id", flat=True)
    ).first()


def message_for_external_id(external_id: str) -> int | None:
    """The thread entry sent or received as this id (our own Message-ID, a Twilio MessageSid…)."""
    if not external_id.strip():
        return None
    return TicketMessage.objects.filter(external_id=external_id.strip()).values_list("pk", flat=True).first()


def message_external_id_set(*, message_id: int, external_id: str) -> None:
    """Records the id a message was sent as (our Message-ID, a provider's message id), for threading and reports."""
    TicketMessage.objects.filter(pk=message_id).update(external_id=external_id[:255])


# --- sms ---


def _sender_contact(contact_id: int | None):
    if contact_id is None:
        return None
    contact = contact_queryset().select_related("customer").filter(pk=contact_id).first()
    if contact is None:
        raise ValidationError({"sender": f"Contact #{contact_id} does not exist."})
    return contact


# --- chat ---
# For the inbox's web chat (inbox/services/chat.py): article suggestions for what a visitor types, the public thread
# a visitor sees, whether any agent is online to answer, and the "visitor is typing" line on the ticket page.

CHAT_TYPING_SECONDS = 6  # the line fades after this long without another keystroke (static/css/helpdesk.css)
CHAT_AVAILABLE = ("available", "busy")  # AgentProfile availabilities that count as online when connected


def help_articles_suggest(text: str, *, limit: int = 3) -> list:
    """Public help-center articles matching `text` (the hybrid keyword + semantic search); none when the help
    center is closed, since the links would lead nowhere."""
    from django.urls import reverse

    from core.markdown import markdown_to_text

    from .contracts import ArticleSuggestion
    from .selectors import kb as kb_selectors
    from .selectors.config import helpdesk_settings_get

    if not text.strip() or not helpdesk_settings_get().help_center_enabled:
        return []
    return [
        ArticleSuggestion(
            id=match.article.pk,
            title=match.article.title,
            path=reverse("help_center:article", args=[match.article.slug]),
            excerpt=markdown_to_text(match.article.body)[:160],
        )
        for match in kb_selectors.help_search(query=text[:500], limit=limit)
    ]


def ticket_public_thread(ticket_id: int, *, limit: int = 200) -> list:
    """The ticket's description and public messages, oldest first, as its customer sees them (no internal notes)."""
    from .contracts import ThreadEntry

    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id).first()
    if ticket is None:
        return []
    opening = ThreadEntry(
        id=0, author="customer", name=ticket.requester.name, body=ticket.description, created=ticket.created.isoformat()
    )
    messages = (
        TicketMessage.objects.filter(ticket_id=ticket_id, kind=TicketMessage.Kind.REPLY)
        .select_related("author", "author_contact")
        .order_by("-created", "-id")[:limit]
    )
    return [opening] + [
        ThreadEntry(
            id=message.pk,
            author="agent" if message.author_id else "customer",
            name=(message.author.get_full_name() if message.author_id else getattr(message.author_contact, "name", "")),
            body=message.body,
            created=message.created.isoformat(),
        )
        for message in reversed(list(messages))
    ]


def chat_agents_online() -> int:
    """How many agents could answer a chat now: able to work tickets, not away or offline (AgentProfile), and with
    a page of the workspace open (a live socket, core.realtime.users_connected)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from accounts.roles import roles_with
    from core.realtime import users_connected

    from .models import AgentProfile

    agents = get_user_model().objects.filter(is_active=True, role__in=roles_with("tickets.edit"))
    unavailable = AgentProfile.objects.exclude(availability__in=CHAT_AVAILABLE).values("user_id")
    ids = list(agents.filter(~Q(pk__in=unavailable)).values_list("pk", flat=True))
    return len(users_connected(ids))


def ticket_typing_show(ticket_id: int, who: str) -> None:
    """Shows "<who> is typing…" on the pages showing the ticket, now (typing is not a write: nothing to commit)."""
    from django.utils.html import format_html

    from core.realtime import group_send_bounded, topic_group

    html = format_html(
        '<div id="chat-typing" hx-swap-oob="innerHTML"><span class="sb-chat-typing small text-body-secondary"'
        ' role="status"><i class="bi bi-three-dots" aria-hidden="true"></i> {} is typing…</span></div>',
        who or "The visitor",
    )
    group_send_bounded(topic_group(live.ticket_topic(ticket_id)), {"type": "push.html", "html": html})


# --- Composer and help center -------------------------------------------------------------------


def deflection_record(
    *,
    helped: bool,
    source: str = "chat",
    article_id: int | None = None,
    ticket_id: int | None = None,
    suggested: int = 0,
) -> None:
    """Counts one visitor shown help-center articles (the chat widget too): helped, or asked anyway. The helpdesk
    settings show the rate over every source."""
    # Imported here so that this section stays self-contained when the facade's sections are merged.
    from .models import Article, DeflectionEvent
    from .services import help_center

    help_center.deflection_record(
        outcome=DeflectionEvent.Outcome.HELPED if helped else DeflectionEvent.Outcome.NOT_HELPED,
        source=source,
        article=Article.objects.filter(pk=article_id).first() if article_id else None,
        ticket=Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None,
        suggested=suggested,
    )


def deflection_counts(*, source: str) -> dict[str, int]:
    """All-time counts of one source's visitors shown articles ("offered") and of those helped ("helped")."""
    from .selectors.help_center import deflection_rate

    rate = deflection_rate(days=None, source=source)
    return {"offered": rate.total, "helped": rate.helped}


# --- pipeline ---


def attachments_screen(attachments: Sequence[InboundAttachment]) -> tuple[list[InboundAttachment], list[str]]:
    """The files of a received message the upload allow-list and the per-message limits take, and why each other
    one is refused: the caller can tell the agent in the message itself that a file was held back."""
    kept, refused = [], []
    for attachment in attachments:
        _uploads, _content_ids, problems = _accepted([attachment])
        limit = settings.HELPDESK_ATTACHMENTS_PER_MESSAGE
        if not problems and len(kept) >= limit:
            problems = [f"{attachment.filename}: at most {limit} files are kept per message."]
        if problems:
            refused.extend(problems)
        else:
            kept.append(attachment)
    return kept, refused


# --- customer timeline ---

TIMELINE_SOURCE = "helpdesk"
TIMELINE_KINDS = (
    TimelineKind("ticket_opened", "Tickets opened", "ticket-perforated"),
    TimelineKind("ticket_solved", "Tickets solved", "check-circle"),
    TimelineKind("message_customer", "Customer messages", "chat-left-text"),
    TimelineKind("message_agent", "Agent replies", "reply"),
    TimelineKind("csat", "CSAT answers", "star"),
)
TIMELINE_SUMMARY_CHARS = 280


def _ticket_scope(query: TimelineQuery) -> dict[str, int]:
    """Tickets of the company, or those the person asked (their messages and surveys follow the ticket)."""
    if query.contact_id is not None:
        return {"requester_id": query.contact_id}
    return {"customer_id": query.customer_id}


class _OnTickets(Func):
    """`ticket_id = ANY(ARRAY(SELECT id FROM the tickets))`. PostgreSQL then probes the partial message (or
    survey) index once per ticket of the company; as a join (`ticket__customer_id=`) it hashed every public
    message of the workspace to find the company's few: 25 ms instead of 3 at 60,000 messages."""

    arg_joiner = " = ANY(ARRAY("
    template = "%(expressions)s))"
    output_field = BooleanField()


def _on_tickets(query: TimelineQuery) -> _OnTickets:
    tickets = Ticket.objects.filter(**_ticket_scope(query)).order_by().values("id")
    return _OnTickets(F("ticket_id"), Subquery(tickets))


def _timeline_rows(scoped, query: TimelineQuery, kind: str, at_field: str, fields: tuple[str, ...]) -> list[dict]:
    """The page's rows of one kind. The page is chosen by ids alone (an inner LIMIT over the scoped rows, no
    joins), then only those rows are joined for names: joining first made PostgreSQL hash every message."""
    window = query.window_q(source_app=TIMELINE_SOURCE, kind=kind, at_field=at_field)
    order = query.order_by(at_field)
    page = scoped.filter(window).order_by(*order).values("id")[: query.limit]
    return list(scoped.model.objects.filter(id__in=page).order_by(*order).values("id", at_field, *fields))


def _ticket_url_format() -> str:
    """The ticket page's path with a `{}` for the id: one reverse() per page instead of one per entry."""
    return reverse("tickets:ticket_detail", args=[987654321]).replace("987654321", "{}")


def _short(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= TIMELINE_SUMMARY_CHARS else text[: TIMELINE_SUMMARY_CHARS - 1] + "…"


def _ticket_entries(query: TimelineQuery, kind: str) -> list[TimelineEntry]:
    opened = kind == "ticket_opened"
    at_field = "created" if opened else "solved_at"
    actor_field = "requester__name" if opened else "assignee__name"
    url = _ticket_url_format()
    rows = _timeline_rows(
        Ticket.objects.filter(**_ticket_scope(query)),
        query,
        kind,
        at_field,
        ("subject", actor_field, "requester__name"),
    )
    return [
        TimelineEntry(
            at=row[at_field],
            kind=kind,
            id=row["id"],
            title=f"{'Opened' if opened else 'Solved'} ticket #{row['id']}",
            summary=_short(row["subject"]),
            url=url.format(row["id"]),
            actor=row[actor_field] or "",
            source_app=TIMELINE_SOURCE,
        )
        for row in rows
    ]


def _message_entries(query: TimelineQuery, kind: str) -> list[TimelineEntry]:
    from_customer = kind == "message_customer"
    messages = TicketMessage.objects.filter(_on_tickets(query), kind=TicketMessage.Kind.REPLY)
    if from_customer:
        messages = messages.filter(author__isnull=True, author_contact__isnull=False)
    else:
        messages = messages.filter(author__isnull=False)
    fields = ("ticket_id", "ticket__subject", "body", "author__name", "author__email", "author_contact__name")
    rows = _timeline_rows(messages, query, kind, "created", fields)
    url = _ticket_url_format()
    return [
        TimelineEntry(
            at=row["created"],
            kind=kind,
            id=row["id"],
            title=f"{'Customer wrote' if from_customer else 'Agent replied'} on #{row['ticket_id']}: "
            f"{row['ticket__subject']}",
            summary=_short(row["body"]),
            url=url.format(row["ticket_id"]) + f"#message-{row['id']}",
            actor=(row["author_contact__name"] if from_customer else row["author__name"] or row["author__email"]) or "",
            source_app=TIMELINE_SOURCE,
        )
        for row in rows
    ]


def _csat_entries(query: TimelineQuery) -> list[TimelineEntry]:
    surveys = SatisfactionSurvey.objects.filter(_on_tickets(query), rating__isnull=False)
    fields = ("ticket_id", "ticket__subject", "rating", "comment", "ticket__requester__name")
    rows = _timeline_rows(surveys, query, "csat", "answered_at", fields)
    url = _ticket_url_format()
    return [
        TimelineEntry(
            at=row["answered_at"],
            kind="csat",
            id=row["id"],
            title=f"Rated #{row['ticket_id']} {row['rating']}/5: {row['ticket__subject']}",
            summary=_short(row["comment"]),
            url=url.format(row["ticket_id"]),
            actor=row["ticket__requester__name"] or "",
            source_app=TIMELINE_SOURCE,
            detail={"rating": row["rating"]},
        )
        for row in rows
    ]


def timeline_entries(query: TimelineQuery) -> list[TimelineEntry]:
    """Tickets opened and solved, public messages both ways and CSAT answers of a company or a person, for
    customers' timeline: one query per kind asked, each at most `query.limit` rows after the page position."""
    streams = [_ticket_entries(query, kind) for kind in ("ticket_opened", "ticket_solved") if query.wants(kind)]
    streams += [_message_entries(query, kind) for kind in ("message_customer", "message_agent") if query.wants(kind)]
    if query.wants("csat"):
        streams.append(_csat_entries(query))
    return list(heapq.merge(*streams, key=lambda entry: entry.sort_key, reverse=True))[: query.limit]


def timeline_provider_register() -> None:
    timeline_provider_register_with_customers(
        TimelineProvider(source_app=TIMELINE_SOURCE, kinds=TIMELINE_KINDS, entries=timeline_entries)
    )


# --- customer health ---
# Batched reads for customers' health score (customers/health.py): each call answers for a whole batch of companies
# in one aggregate query, so the job's statements do not grow with the number of companies. Windows are half-open,
# [start, at): `at` may be in the past (the history backfill). Tickets merged into another count through that one.


def _health_tickets(customer_ids: Sequence[int], at):
    return Ticket.objects.filter(customer_id__in=list(customer_ids), merged_into__isnull=True, created__lt=at)


def customer_ticket_volumes(customer_ids: Sequence[int], *, at, recent_days: int, baseline_days: int) -> dict:
    """{customer id: TicketVolume}: tickets opened in the last `recent_days` and in the `baseline_days` before."""
    from datetime import timedelta

    from django.db.models import Count, Q

    from .contracts import TicketVolume

    recent_start = at - timedelta(days=recent_days)
    rows = (
        _health_tickets(customer_ids, at)
        .filter(created__gte=recent_start - timedelta(days=baseline_days))
        .values("customer_id")
        .annotate(
            recent=Count("id", filter=Q(created__gte=recent_start)),
            baseline=Count("id", filter=Q(created__lt=recent_start)),
        )
        .order_by()
    )
    return {row["customer_id"]: TicketVolume(recent=row["recent"], baseline=row["baseline"]) for row in rows}


def customer_sentiment_counts(customer_ids: Sequence[int], *, at, recent_days: int, baseline_days: int) -> dict:
    """{customer id: SentimentCounts}: tickets the AI analysis found positive, neutral or negative (the customer's
    tone, Ticket.sentiment), opened in the recent window and in the baseline before it. Unanalysed ones are left out."""
    from datetime import timedelta

    from django.db.models import Count, Q

    from .contracts import SentimentCounts

    recent_start = at - timedelta(days=recent_days)
    windows = {"recent": Q(created__gte=recent_start), "baseline": Q(created__lt=recent_start)}
    counts = {
        f"{window}_{label}": Count("id", filter=when & Q(sentiment=label))
        for window, when in windows.items()
        for label in ("positive", "neutral", "negative")
    }
    rows = (
        _health_tickets(customer_ids, at)
        .filter(
            created__gte=recent_start - timedelta(days=baseline_days), sentiment__in=("positive", "neutral", "negative")
        )
        .values("customer_id")
        .annotate(**counts)
        .order_by()
    )
    return {row.pop("customer_id"): SentimentCounts(**row) for row in rows}


def customer_sla_breaches(customer_ids: Sequence[int], *, at, days: int) -> dict[int, int]:
    """{customer id: tickets that breached an SLA target in the last `days`} (each ticket once)."""
    from datetime import timedelta

    from django.db.models import Count

    from .models import TicketEvent

    rows = (
        TicketEvent.objects.filter(
            kind=TicketEvent.Kind.SLA_BREACHED,
            created__gte=at - timedelta(days=days),
            created__lt=at,
            ticket__customer_id__in=list(customer_ids),
        )
        .values("ticket__customer_id")
        .annotate(breached=Count("ticket_id", distinct=True))
        .order_by()
    )
    return {row["ticket__customer_id"]: row["breached"] for row in rows}


def customer_csat(customer_ids: Sequence[int], *, at, days: int) -> dict:
    """{customer id: CsatSummary} of the satisfaction surveys answered in the last `days`."""
    from datetime import timedelta

    from django.db.models import Avg, Count

    from .contracts import CsatSummary
    from .models import SatisfactionSurvey

    rows = (
        SatisfactionSurvey.objects.filter(
            rating__isnull=False,
            answered_at__gte=at - timedelta(days=days),
            answered_at__lt=at,
            ticket__customer_id__in=list(customer_ids),
        )
        .values("ticket__customer_id")
        .annotate(answers=Count("id"), average=Avg("rating"))
        .order_by()
    )
    return {row["ticket__customer_id"]: CsatSummary(row["answers"], float(row["average"])) for row in rows}


def customer_open_urgent(customer_ids: Sequence[int], *, at) -> dict[int, int]:
    """{customer id: urgent tickets open at `at`} (opened before, not solved nor closed by then)."""
    from django.db.models import Count, Q

    still_open = (Q(solved_at__isnull=True) | Q(solved_at__gte=at)) & (Q(closed_at__isnull=True) | Q(closed_at__gte=at))
    rows = (
        _health_tickets(customer_ids, at)
        .filter(still_open, priority=Ticket.Priority.URGENT)
        .values("customer_id")
        .annotate(urgent=Count("id"))
        .order_by()
    )
    return {row["customer_id"]: row["urgent"] for row in rows}


def customer_last_contact(customer_ids: Sequence[int], *, at) -> dict:
    """{customer id: the latest moment before `at` one of its tickets was opened or got a message from either side}.

    From the tickets' own columns, not the messages table: one row per ticket. Seen from the past (the backfill), a
    ticket whose latest message came after `at` counts from its opening only; that errs towards "longer ago"."""
    from django.db.models import Max, Q

    rows = (
        _health_tickets(customer_ids, at)
        .values("customer_id")
        .annotate(
            opened=Max("created"),
            customer_wrote=Max("last_customer_message_at", filter=Q(last_customer_message_at__lt=at)),
            agent_wrote=Max("last_agent_message_at", filter=Q(last_agent_message_at__lt=at)),
        )
        .order_by()
    )
    return {
        row["customer_id"]: max(
            moment for moment in (row["opened"], row["customer_wrote"], row["agent_wrote"]) if moment
        )
        for row in rows
    }
