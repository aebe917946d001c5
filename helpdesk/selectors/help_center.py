"""What the public help center reads besides articles: its title, a request's public thread, its status wording,
"My requests" sign-in links and lists, article suggestions while a visitor writes, and the deflection rate.

The thread holds public replies only. Internal notes never leave this selector, whatever the page does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from ..models import DeflectionEvent, HelpdeskSettings, HelpSignInLink, Ticket, TicketMessage
from .config import helpdesk_settings_get
from .kb import ArticleMatch, help_articles, hybrid_search

# How a requester reads a status: they do not care whether an agent has picked the ticket up yet.
PUBLIC_STATUS = {
    Ticket.Status.NEW: ("Open", "We have your request and will answer soon."),
    Ticket.Status.OPEN: ("Open", "We are working on your request."),
    Ticket.Status.PENDING: ("Awaiting your reply", "We asked you something: reply below to continue."),
    Ticket.Status.ON_HOLD: ("Open", "We are waiting on a third party and will update you."),
    Ticket.Status.SOLVED: ("Solved", "We believe this is solved. Reply below if it is not, and we will reopen it."),
    Ticket.Status.CLOSED: ("Closed", "This request is closed. Please open a new one if you need more help."),
}


def help_center_title(settings: HelpdeskSettings | None = None) -> str:
    settings = settings or helpdesk_settings_get()
    if settings.help_center_title:
        return settings.help_center_title
    name = getattr(getattr(connection, "tenant", None), "name", "") or "Switchboard"
    return f"{name} Help Center"


def request_thread(*, ticket: Ticket) -> list[TicketMessage]:
    """The conversation the requester may see: public replies (theirs and the agents'), oldest first."""
    messages = ticket.messages.filter(kind=TicketMessage.Kind.REPLY).select_related("author", "author_contact")
    return list(messages.prefetch_related("attachments").order_by("created", "id"))


def request_public_status(ticket: Ticket) -> tuple[str, str]:
    return PUBLIC_STATUS.get(ticket.status, ("Open", ""))


# --- Request status links ----------------------------------------------------------------------------

TOKEN_SALT = "helpdesk.request-status"


def _salt() -> str:
    return f"{TOKEN_SALT}:{connection.schema_name}"


@dataclass(frozen=True)
class RequestLink:
    """What a status link opens: its ticket, or why not ("invalid", "expired", "merged") and which request it was."""

    ticket: Ticket | None
    refused: str = ""
    number: int | None = None


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_salt())


def request_token(ticket: Ticket) -> str:
    """A token stamped now: the link it makes works for HELP_CENTER_LINK_MAX_AGE_DAYS."""
    return _signer().sign_object([ticket.pk, ticket.requester_id])


def request_link_open(token: str) -> RequestLink:
    """The ticket a status link names; refused when forged, truncated, from another workspace, for a deleted
    ticket ("invalid"), too old ("expired") or for a ticket merged into another one ("merged")."""
    max_age = timedelta(days=settings.HELP_CENTER_LINK_MAX_AGE_DAYS)
    expired = False
    try:
        payload = _signer().unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        payload, expired = _signer().unsign_object(token), True  # genuine, only too old
    except (signing.BadSignature, ValueError, TypeError):
        return RequestLink(ticket=None, refused="invalid")
    if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(part, int) for part in payload)):
        return RequestLink(ticket=None, refused="invalid")
    ticket_id, requester_id = payload
    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id, requester_id=requester_id).first()
    if ticket is None:
        return RequestLink(ticket=None, refused="invalid")
    if expired:
        return RequestLink(ticket=None, refused="expired", number=ticket.pk)
    if ticket.merged_into_id is not None:
        return RequestLink(ticket=None, refused="merged", number=ticket.pk)
    return RequestLink(ticket=ticket)


def help_request_get_by_token(token: str) -> Ticket | None:
    """The ticket of a status link that still works, else None."""
    return request_link_open(token).ticket


# --- "My requests" sign-in links ---------------------------------------------------------------------

SIGN_IN_SALT = "helpdesk.help-sign-in"
# Short: the link is a password sent by email, and asking for a new one costs a minute.
SIGN_IN_MAX_AGE = timedelta(minutes=30)


def _sign_in_signer() -> signing.TimestampSigner:
    # Salted with the schema: a link made in one workspace is a forgery in every other.
    return signing.TimestampSigner(salt=f"{SIGN_IN_SALT}:{connection.schema_name}")


def sign_in_token(secret: str) -> str:
    """The link's token: the random secret (whose digest alone is stored), stamped and signed now."""
    return _sign_in_signer().sign(secret)


def sign_in_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SignInCheck:
    """A sign-in link that still works, or why not: "invalid", "expired" or "used"."""

    link: HelpSignInLink | None
    refused: str = ""


def sign_in_link_check(token: str, *, lock: bool = False) -> SignInCheck:
    """What an emailed sign-in link is worth now; `lock` (inside a transaction) holds its row for spending it."""
    try:
        secret = _sign_in_signer().unsign(token, max_age=SIGN_IN_MAX_AGE)
    except signing.SignatureExpired:
        return SignInCheck(link=None, refused="expired")
    except signing.BadSignature:
        return SignInCheck(link=None, refused="invalid")
    links = HelpSignInLink.objects.select_related("contact")
    link = (links.select_for_update(of=("self",)) if lock else links).filter(digest=sign_in_digest(secret)).first()
    if link is None:
        return SignInCheck(link=None, refused="invalid")
    if link.used_at is not None:
        return SignInCheck(link=None, refused="used")
    if timezone.now() - link.created > SIGN_IN_MAX_AGE:
        return SignInCheck(link=None, refused="expired")
    return SignInCheck(link=link)


@dataclass(frozen=True)
class HelpRequestRow:
    """One of a customer's requests as "My requests" lists it, with the link to its status page."""

    ticket: Ticket
    status_label: str
    token: str


def help_requests_for_contact(*, contact_id: int, limit: int = 100) -> list[HelpRequestRow]:
    """The requests this contact opened (not their company's), latest activity first; merged ones are left out
    (their messages live on in the ticket they were merged into)."""
    tickets = Ticket.objects.filter(requester_id=contact_id, merged_into__isnull=True).select_related("requester")
    rows = tickets.only("id", "subject", "status", "created", "updated", "requester_id").order_by("-updated", "-id")
    return [
        HelpRequestRow(ticket=ticket, status_label=request_public_status(ticket)[0], token=request_token(ticket))
        for ticket in rows[:limit]
    ]


# --- Deflection ---------------------------------------------------------------------------------

SUGGESTION_LIMIT = 5
SUGGESTION_MIN_CHARS = 12


def help_suggestions(*, text: str, limit: int = SUGGESTION_LIMIT) -> list[ArticleMatch]:
    """Public articles that may answer what a visitor is writing (subject and description), best first: the help
    center's own hybrid search, any word counting (people type sentences, not search terms)."""
    text = " ".join((text or "").split())[:500]
    if len(text) < SUGGESTION_MIN_CHARS:
        return []
    return hybrid_search(help_articles(), text, any_word=True)[:limit]


@dataclass(frozen=True)
class DeflectionRate:
    helped: int
    not_helped: int

    @property
    def total(self) -> int:
        return self.helped + self.not_helped

    @property
    def percent(self) -> int | None:
        return round(100 * self.helped / self.total) if self.total else None


def deflection_rate(*, days: int | None = 30, source: str | None = None) -> DeflectionRate:
    """Of the visitors shown articles in the last `days` (None: ever), from `source` (None: every one), how many
    were helped and how many asked anyway."""
    events = DeflectionEvent.objects.all()
    if days is not None:
        events = events.filter(created__gte=timezone.now() - timedelta(days=days))
    if source is not None:
        events = events.filter(source=source)
    counts = events.aggregate(
        helped=Count("id", filter=Q(outcome=DeflectionEvent.Outcome.HELPED)),
        not_helped=Count("id", filter=Q(outcome=DeflectionEvent.Outcome.NOT_HELPED)),
    )
    return DeflectionRate(helped=counts["helped"], not_helped=counts["not_helped"])
