"""Reads for the ticket AI: what an analysis looks at, solved tickets to learn from, the AI panel's view of a ticket.

The panel reads only the ticket row (its `ai_suggestions` document, see helpdesk.services.ticket_ai.analysis):
everything it shows was resolved to titles, links and scores when the analysis ran, so rendering it costs no
query, including when it is pushed live to every agent.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.roles import user_can
from ai import facade
from core.links import workspace_url

from ..models import Attachment, Category, Ticket, TicketMessage
from ..reply_safety import reusable_answer

TICKET_SOURCE = "helpdesk.ticket"  # solved tickets in the vector index (see indexing.py)
SIMILAR_MIN_SCORE = 0.55  # cosine of MiniLM embeddings: 0.55+ is the same issue told differently
SIMILAR_LIMIT = 3
KB_LIMIT = 5

MAX_ANALYSIS_CHARS = 6000
RECENT_CUSTOMER_MESSAGES = 3
MAX_SOLUTION_CHARS = 600


def ticket_get_for_ai(*, ticket_id: int) -> Ticket | None:
    """A ticket for the AI views (its category for the panel's "matches" marks); None when there is none."""
    return Ticket.objects.select_related("category").filter(pk=ticket_id).first()


# --- What an analysis reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisInput:
    ticket: Ticket
    customer_messages: tuple[str, ...]  # the latest few, oldest first
    has_attachments: bool
    categories: tuple[Category, ...]

    @property
    def description(self) -> str:
        return self.ticket.description

    @property
    def search_text(self) -> str:
        """What the ticket is about, for retrieval: subject and description (replies drift off topic)."""
        return f"{self.ticket.subject}\n\n{self.description}"[:MAX_ANALYSIS_CHARS]

    @property
    def text(self) -> str:
        """Subject, description and the customer's latest messages, newest kept when it must be cut."""
        parts = [self.ticket.subject, self.description, *self.customer_messages]
        text = "\n\n".join(part.strip() for part in parts if part and part.strip())
        if len(text) <= MAX_ANALYSIS_CHARS:
            return text
        head = f"{self.ticket.subject}\n\n{self.description}"[: MAX_ANALYSIS_CHARS // 2]
        tail = "\n\n".join(self.customer_messages)[-(MAX_ANALYSIS_CHARS // 2 - 2) :]
        return f"{head}\n\n{tail}"

    @property
    def latest_customer_text(self) -> str:
        """The customer's newest words: what their mood is judged on."""
        if self.customer_messages:
            return self.customer_messages[-1][:MAX_ANALYSIS_CHARS]
        return self.search_text

    def digest(self, version: int) -> str:
        """Identifies what an analysis saw: the same digest twice means nothing new to analyse."""
        categories = [(category.pk, category.name, category.description) for category in self.categories]
        payload = json.dumps([version, self.text, categories], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


def analysis_input(*, ticket_id: int) -> AnalysisInput | None:
    """The ticket with what its analysis needs (3 queries); None when it no longer exists."""
    ticket = Ticket.objects.select_related("category", "customer", "requester").filter(pk=ticket_id).first()
    if ticket is None:
        return None
    recent = (
        TicketMessage.objects.filter(ticket=ticket, author_contact__isnull=False, author__isnull=True)
        .order_by("-created", "-id")
        .values_list("body", flat=True)[:RECENT_CUSTOMER_MESSAGES]
    )
    has_attachments = Attachment.objects.filter(message__ticket=ticket).exists()
    return AnalysisInput(
        ticket=ticket,
        customer_messages=tuple(reversed(list(recent))),
        has_attachments=has_attachments,
        categories=tuple(Category.objects.order_by("name")),
    )


def tickets_awaiting_analysis(*, grace: timedelta, limit: int, now: datetime | None = None) -> list[int]:
    """Tickets whose analysis is still pending after `grace` (never queued: the broker was down) or failed for a
    reason a retry may fix (a provider outage, not unusable input)."""
    cutoff = (now or timezone.now()) - grace
    stuck = Q(ai_analysis_status=Ticket.AnalysisStatus.PENDING, updated__lt=cutoff)
    # Containment, not a key lookup: a document without the key must count as "not permanent", never as NULL.
    permanent = Q(ai_suggestions__contains={"last_error": {"permanent": True}})
    failed = Q(ai_analysis_status=Ticket.AnalysisStatus.FAILED) & ~permanent
    return list(Ticket.objects.filter(stuck | failed).order_by("-id").values_list("pk", flat=True)[:limit])


# --- Solved tickets: similar cases and training data ----------------------------------------------


@dataclass(frozen=True)
class SolvedTicket:
    ticket_id: int
    subject: str
    solution: str  # the last public reply an agent sent, the likeliest answer
    solved_at: datetime | None
    # Who that ticket was for (requester's name and address, their company): never to appear in another's reply.
    people: tuple[str, ...] = ()

    @property
    def reply_text(self) -> str:
        """The answer as it may be reused for another customer (helpdesk.reply_safety.reusable_answer)."""
        return reusable_answer(self.solution, people=self.people)


def solved_tickets(*, ids: list[int]) -> dict[int, SolvedTicket]:
    """Solved or closed (not merged) tickets among `ids` that have an agent's public reply (2 queries)."""
    tickets = {
        ticket.pk: ticket
        for ticket in Ticket.objects.filter(pk__in=ids, status__in=Ticket.DONE_STATUSES, merged_into__isnull=True)
        .select_related("requester", "customer")
        .only("pk", "subject", "solved_at", "requester__name", "requester__email", "customer__name")
    }
    solutions: dict[int, str] = {}
    replies = (
        TicketMessage.objects.filter(ticket_id__in=tickets, kind=TicketMessage.Kind.REPLY, author__isnull=False)
        .order_by("ticket_id", "-created", "-id")
        .distinct("ticket_id")
        .values_list("ticket_id", "body")
    )
    for ticket_id, body in replies:
        solutions[ticket_id] = body[:MAX_SOLUTION_CHARS]
    return {
        pk: SolvedTicket(pk, ticket.subject, solutions[pk], ticket.solved_at, _people(ticket))
        for pk, ticket in tickets.items()
        if pk in solutions
    }


def _people(ticket: Ticket) -> tuple[str, ...]:
    names = (ticket.requester.name, ticket.requester.email, ticket.customer.name)
    return tuple(name for name in names if name)


def solved_index_texts(*, ids: list[int]) -> dict[int, str]:
    """What solved tickets are found by in similarity search: their problem (new tickets are compared with
    problems, not answers). Left out: tickets without an agent's answer to reuse, and tickets the knowledge base
    answered automatically (the article itself is the better source). 3 queries."""
    solved = solved_tickets(ids=ids)
    rows = Ticket.objects.filter(pk__in=solved, auto_closed=False).values_list(
        "pk", "subject", "original_description", "improved_description"
    )
    return {pk: f"{subject}\n\n{improved or original}"[:MAX_ANALYSIS_CHARS] for pk, subject, original, improved in rows}


def solved_ticket_ids(*, after_id: int, limit: int) -> list[int]:
    return list(
        Ticket.objects.filter(
            pk__gt=after_id, status__in=Ticket.DONE_STATUSES, merged_into__isnull=True, auto_closed=False
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


@dataclass(frozen=True)
class TrainingExamples:
    """Labelled tickets for one classifier, OLDEST FIRST; `corrections`: how many of them an agent labelled
    differently from what the analysis had suggested."""

    texts: list[str]
    labels: list[str]
    label_names: dict[str, str]
    corrections: int
    fingerprint: str


TRAINABLE_FIELDS = {"category": "category_id", "priority": "priority", "type": "type"}


def ticket_training_examples(*, kind: str, min_per_label: int, settled_only: bool) -> TrainingExamples:
    """Every labelled ticket of the labels with at least `min_per_label` examples (no cap: the commonest label is
    as real as the others). `settled_only`: solved or closed tickets only (a priority or type keeps its default
    until an agent looks at it; by the time the work is done it is what the agent meant)."""
    column = TRAINABLE_FIELDS[kind]
    rows = Ticket.objects.filter(merged_into__isnull=True).exclude(**{f"{column}__isnull": True})
    if settled_only:
        rows = rows.filter(status__in=Ticket.DONE_STATUSES)
    rows = rows.order_by("id").values_list("pk", column, "subject", "original_description", "ai_suggestions")
    chosen: list[tuple[int, str, str, bool]] = []
    for pk, value, subject, description, document in rows.iterator(chunk_size=2000):
        if value in (None, ""):
            continue
        suggested = _suggested_value(document, kind)
        corrected = suggested is not None and str(suggested) != str(value)
        chosen.append((pk, str(value), f"{subject}\n\n{description}"[:MAX_ANALYSIS_CHARS], corrected))
    counts: dict[str, int] = {}
    for _, label, _, _ in chosen:
        counts[label] = counts.get(label, 0) + 1
    usable = {label for label, count in counts.items() if count >= min_per_label}
    chosen = [row for row in chosen if row[1] in usable]
    fingerprint = hashlib.sha256(json.dumps([(pk, label) for pk, label, _, _ in chosen]).encode()).hexdigest()
    return TrainingExamples(
        texts=[text for _, _, text, _ in chosen],
        labels=[label for _, label, _, _ in chosen],
        label_names=_label_names(kind, usable),
        corrections=sum(1 for row in chosen if row[3]),
        fingerprint=fingerprint,
    )


def _suggested_value(document: Any, kind: str) -> Any:
    """What the analysis suggested for `kind` (an agent who then chose otherwise corrected it), or None."""
    entry = ((document or {}).get("suggestions") or {}).get(kind) if isinstance(document, dict) else None
    return entry.get("value") if isinstance(entry, dict) else None


def _label_names(kind: str, labels: set[str]) -> dict[str, str]:
    if kind == "category":
        ids = [int(label) for label in labels]
        return {str(pk): name for pk, name in Category.objects.filter(pk__in=ids).values_list("pk", "name")}
    choices = dict(Ticket.Priority.choices if kind == "priority" else Ticket.Type.choices)
    return {label: str(choices.get(label, label)) for label in labels}


# --- Links ---------------------------------------------------------------------------------------


def _reverse(name: str, **kwargs: Any) -> str:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


def absolute_url(path: str) -> str:
    """`path` on the workspace's own domain, for text that leaves the app (a reply the customer reads by email)."""
    if not path:
        return ""
    return workspace_url(path)


def ticket_url(ticket_id: int) -> str:
    return _reverse("tickets:ticket_detail", ticket_id=ticket_id)


def article_url(article: Any, *, public: bool = False) -> str:
    """The agents' page of an article, or its help-center page (what a customer can open) when `public`."""
    if public:
        return _reverse("help_center:article", article_slug=article.slug)
    return _reverse("kb:article_detail", article_id=article.pk)


# --- The AI panel --------------------------------------------------------------------------------

APPLICABLE = ("category", "priority", "type")
CONFIRMABLE = ("sentiment", "language")
CHIP_ORDER = ("category", "priority", "type", "sentiment", "language")
CHIP_TITLES = {kind: kind.capitalize() for kind in CHIP_ORDER}


@dataclass(frozen=True)
class Chip:
    kind: str
    title: str
    value: Any
    label: str
    confidence: float | None
    reasons: tuple[str, ...]
    status: str  # "open" | "applied" | "dismissed"
    matches_ticket: bool  # the ticket already says so: nothing to apply
    method: str = ""

    @property
    def actionable(self) -> bool:
        return self.status == "open" and not self.matches_ticket

    @property
    def apply_label(self) -> str:
        return "Confirm" if self.kind in CONFIRMABLE else "Apply"


@dataclass(frozen=True)
class AIPanel:
    ticket_id: int
    state: str  # "off" | "queued" | "failed" | "done"
    can_edit: bool
    chips: tuple[Chip, ...] = ()
    summary: str = ""
    keywords: tuple[str, ...] = ()
    sla: dict[str, Any] = field(default_factory=dict)
    next_actions: tuple[dict, ...] = ()
    questions: tuple[dict, ...] = ()
    similar: tuple[dict, ...] = ()
    articles: tuple[dict, ...] = ()
    auto_response: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] | None = None
    analysed_at: str = ""
    error: str = ""
    retrying: bool = True  # a failure that a later attempt may fix (a provider outage)
    stale: bool = False  # an older analysis is shown while a new one runs or failed
    # The workspace's model was not sure: (kind title, what the panel says), shown instead of a suggestion.
    abstentions: tuple[tuple[str, str], ...] = ()

    @property
    def has_analysis(self) -> bool:
        return bool(self.chips or self.summary or self.abstentions)


def _current_value(ticket: Ticket, kind: str) -> Any:
    if kind == "category":
        return ticket.category_id
    return getattr(ticket, kind)


def _chips(ticket: Ticket, suggestions: dict[str, Any]) -> tuple[Chip, ...]:
    chips = []
    for kind in CHIP_ORDER:
        entry = suggestions.get(kind)
        if not entry:
            continue
        chips.append(
            Chip(
                kind=kind,
                title=CHIP_TITLES[kind],
                value=entry.get("value"),
                label=entry.get("label") or str(entry.get("value")),
                confidence=entry.get("confidence"),
                reasons=tuple(entry.get("reasons") or ()),
                status=entry.get("status", "open"),
                matches_ticket=kind in APPLICABLE and _current_value(ticket, kind) == entry.get("value"),
                method=entry.get("method", ""),
            )
        )
    return tuple(chips)


def ticket_analysis_state(ticket: Ticket, document: dict[str, Any]) -> str:
    """failed, queued, done, or off (never analysed, or analysis turned off)."""
    status = ticket.ai_analysis_status
    if status == Ticket.AnalysisStatus.FAILED:
        return "failed"
    if status == Ticket.AnalysisStatus.PENDING:
        return "queued"
    if status == Ticket.AnalysisStatus.DONE and document.get("version"):
        return "done"
    return "off"


def ai_panel(*, ticket: Ticket, user) -> AIPanel:
    """The panel of `ticket` as `user` sees it; no query (the document travels on the ticket row)."""
    document = ticket.ai_suggestions if isinstance(ticket.ai_suggestions, dict) else {}
    state = ticket_analysis_state(ticket, document)
    failure = document.get("last_error") or {}
    common = {
        "ticket_id": ticket.pk,
        "state": state,
        "can_edit": user_can(user, "tickets.edit"),
        "error": failure.get("reason", ""),
        "retrying": not failure.get("permanent", False),
    }
    if not document.get("version"):
        return AIPanel(**common)
    return AIPanel(
        **common,
        chips=_chips(ticket, document.get("suggestions") or {}),
        summary=(document.get("summary") or {}).get("text", ""),
        keywords=tuple((document.get("summary") or {}).get("keywords") or ()),
        sla=document.get("sla_risk") or {},
        next_actions=tuple(document.get("next_actions") or ()),
        questions=tuple(document.get("questions") or ()),
        similar=tuple(document.get("similar_tickets") or ()),
        articles=tuple(document.get("kb_articles") or ()),
        auto_response=document.get("auto_response") or {},
        provenance=document.get("provenance"),
        analysed_at=document.get("analysed_at", ""),
        stale=state in ("queued", "failed"),
        abstentions=tuple(
            (CHIP_TITLES.get(kind, kind.capitalize()), entry.get("text", "Not confident — no suggestion."))
            for kind, entry in (document.get("abstained") or {}).items()
            if entry
        ),
    )


# --- Retrieval for the analysis: similar solved tickets and knowledge-base articles -----------------


def similar_solved_tickets(ticket_id: int, text: str, *, limit: int = SIMILAR_LIMIT) -> list[dict[str, Any]]:
    """Solved tickets that looked like this one, with the agent's answer: candidate solutions."""
    hits = facade.search_similar(source=TICKET_SOURCE, text=text, k=limit * 3, exclude_object_id=ticket_id)
    scores = {int(object_id): score for object_id, score in hits if score >= SIMILAR_MIN_SCORE}
    solved = solved_tickets(ids=list(scores))
    ranked = sorted(solved.values(), key=lambda item: -scores[item.ticket_id])[:limit]
    return [
        {
            "ticket_id": item.ticket_id,
            "subject": item.subject,
            "score": round(scores[item.ticket_id], 3),
            "solution": item.solution,
            "reply_text": item.reply_text,
            "url": ticket_url(item.ticket_id),
        }
        for item in ranked
    ]


def kb_article_suggestions(text: str, *, limit: int = KB_LIMIT, threshold: float | None = None) -> list[dict[str, Any]]:
    """Published articles recommended for the text (the knowledge base's own scoring and threshold)."""
    try:
        from .kb import article_recommendations
    except ImportError:  # the knowledge base is not installed in this build
        return []
    return [
        {
            "article_id": match.article.pk,
            "title": match.article.title,
            "url": article_url(match.article),
            "public_url": article_url(match.article, public=True) if match.article.is_public else "",
            "score": round(float(match.score), 3),
            "reason": match.reason,
            "public": match.article.is_public,
        }
        for match in article_recommendations(text=text, limit=limit, threshold=threshold)
    ]


def ticket_drafts(*, ticket: Ticket):
    """The reply drafts agents asked for on this ticket, newest first, with who asked and the reply sent from each
    (`sent_message_id`: the public reply whose `ai_run_id` is the draft's run, if any)."""
    sent = TicketMessage.objects.filter(ticket=ticket, ai_run_id=OuterRef("ai_run_id")).order_by("id").values("pk")
    return ticket.drafts.select_related("requested_by").annotate(sent_message_id=Subquery(sent[:1]))
