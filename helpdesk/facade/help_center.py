"""Deflection: whether the articles a customer was offered (help center form, chat widget) answered them."""

from __future__ import annotations

from ..models import Ticket

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
    from ..models import Article, DeflectionEvent
    from ..services import help_center

    help_center.deflection_record(
        outcome=DeflectionEvent.Outcome.HELPED if helped else DeflectionEvent.Outcome.NOT_HELPED,
        source=source,
        article=Article.objects.filter(pk=article_id).first() if article_id else None,
        ticket=Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None,
        suggested=suggested,
    )


def deflection_counts(*, source: str) -> dict[str, int]:
    """All-time counts of one source's visitors shown articles ("offered") and of those helped ("helped")."""
    from ..selectors.help_center import deflection_rate

    rate = deflection_rate(days=None, source=source)
    return {"offered": rate.total, "helped": rate.helped}
