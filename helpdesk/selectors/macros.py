"""Reading macros: the ones a person may use (their personal ones and every shared one), search for the composer's
`/` list, a macro's reply rendered for a ticket and a dry run of its actions."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from core.placeholders import placeholders_render

from ..contracts import TicketActionResult
from ..models import Macro, Ticket
from ..services import ticket_actions
from ..services.macros import macro_source

SORTS = {
    "name": ("Name", ("name", "id")),
    "most_used": ("Most used", ("-usage_count", "name", "id")),
    "recent": ("Recently used", (F("last_used_at").desc(nulls_last=True), "name", "id")),
}
SEARCH_LIMIT = 20


def macros_usable(*, user) -> QuerySet[Macro]:
    """Every shared macro and the person's own personal ones."""
    return Macro.objects.filter(
        Q(visibility=Macro.Visibility.SHARED) | Q(visibility=Macro.Visibility.PERSONAL, owner=user)
    )


def _matching(queryset: QuerySet[Macro], query: str) -> QuerySet[Macro]:
    for word in (query or "").split()[:5]:
        queryset = queryset.filter(Q(name__icontains=word) | Q(description__icontains=word))
    return queryset


def macro_list(*, user, query: str = "", sort: str = "name") -> list[Macro]:
    """The management page's list: searchable by name and description, sorted by name, use or last use."""
    _label, order = SORTS.get(sort, SORTS["name"])
    return list(_matching(macros_usable(user=user), query).select_related("owner").order_by(*order))


def macro_search(*, user, query: str = "", limit: int = SEARCH_LIMIT) -> list[Macro]:
    """The composer's `/` list: most used first (then by name), names starting with the query before the rest."""
    macros = _matching(macros_usable(user=user), query).order_by("-usage_count", "name", "id")[: limit * 3]
    first = (query or "").strip().lower()
    ranked = sorted(macros, key=lambda macro: not (first and macro.name.lower().startswith(first)))
    return ranked[:limit]


def macro_get(*, user, macro_id: int) -> Macro:
    """A macro the person may use (Macro.DoesNotExist otherwise: another agent's personal macro is not there)."""
    return macros_usable(user=user).select_related("owner").get(pk=macro_id)


def macro_reply_render(*, reply_text: str, ticket_id: int, actor_id: int | None) -> str:
    """The reply text with the ticket's and agent's values in place of its placeholders (safe substitution)."""
    if not reply_text:
        return ""
    context = ticket_actions.ticket_placeholder_context(ticket_id, actor_id=actor_id)
    return placeholders_render(reply_text, context)


def macro_dry_run(*, macro: Macro, ticket_id: int, actor_id: int | None, actions=None) -> TicketActionResult:
    """What the macro's actions would change on the ticket now (nothing is written)."""
    actions = macro.actions if actions is None else actions
    if not actions:
        return TicketActionResult(ticket_id=ticket_id, changes=(), note_added=False)
    return ticket_actions.ticket_actions_apply(
        ticket_id=ticket_id, actions=actions, actor_id=actor_id, source=macro_source(macro), dry_run=True
    )


def macro_sample_ticket(*, ticket_id: int | None = None) -> Ticket | None:
    """The ticket a macro's preview uses: the one asked for, else the newest ticket."""
    tickets = Ticket.objects.order_by("-created", "-id")
    if ticket_id:
        return tickets.filter(pk=ticket_id).first()
    return tickets.first()


def change_sentences(result: TicketActionResult) -> list[str]:
    """What a dry run says, as the panel reads it: "set status to Pending", "add tag billing", "assign to Ann Lee"."""
    sentences = []
    for change in result.changes:
        if change.field == "tags":
            sentences += _tag_sentences(change.before, change.after)
        elif change.field == "assignee":
            sentences.append(f"assign to {change.after}" if change.after else "unassign")
        elif change.after:
            sentences.append(f"set {change.label.lower()} to {change.after}")
        else:
            sentences.append(f"clear the {change.label.lower()}")
    if result.note_added:
        sentences.append("add an internal note")
    return sentences


def _tag_sentences(before: str, after: str) -> list[str]:
    old = [tag for tag in before.split(", ") if tag]
    new = [tag for tag in after.split(", ") if tag]
    sentences = []
    for verb, tags in (("add", [t for t in new if t not in old]), ("remove", [t for t in old if t not in new])):
        if tags:
            sentences.append(f"{verb} tag{'s' if len(tags) > 1 else ''} {', '.join(tags)}")
    return sentences
