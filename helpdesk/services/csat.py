"""Customer satisfaction: one survey per solved ticket, emailed to the requester, answered (and for a week
changeable) through a secret link without signing in. Each answer is a CSAT event in the ticket's history."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import webhook_events
from ..contracts import CSAT_RECEIVED
from ..emails import customer_publish_after_commit
from ..models import SatisfactionSurvey, Ticket, TicketEvent
from ..selectors.config import helpdesk_settings_get
from ..selectors.csat import survey_editable, survey_url
from ..selectors.help_center import help_center_title

MAX_COMMENT = 2000
RATINGS = range(1, 6)


@transaction.atomic
def survey_send(*, ticket: Ticket) -> SatisfactionSurvey | None:
    """Called when a ticket is solved: creates its survey and emails the link once the solve commits.

    Nothing happens when the workspace turned surveys off, the ticket is not solved, the requester has no
    address, or the ticket already had a survey (a ticket solved again after a reopen is not asked twice).
    """
    if ticket.status != Ticket.Status.SOLVED or not helpdesk_settings_get().csat_enabled:
        return None
    email = ticket.requester.email
    if not email:
        return None
    survey, created = SatisfactionSurvey.objects.get_or_create(ticket=ticket)
    if not created:
        return None
    context = {
        "ticket": ticket,
        "name": ticket.requester.name,
        "help_title": help_center_title(),
        "survey_url": survey_url(survey),
        "ratings": list(RATINGS),
    }
    customer_publish_after_commit("helpdesk/email/csat_survey", kind="csat", ticket=ticket, to=email, context=context)
    return survey


@transaction.atomic
def survey_answer(*, survey: SatisfactionSurvey, rating: int | str, comment: str = "") -> SatisfactionSurvey:
    survey = SatisfactionSurvey.objects.select_for_update().select_related("ticket").get(pk=survey.pk)
    if not survey_editable(survey):
        raise ValidationError({"rating": "This survey was answered more than a week ago and can no longer change."})
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if rating not in RATINGS:
        raise ValidationError({"rating": "Choose a rating from 1 (very unhappy) to 5 (very happy)."})
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": f"The comment is too long (at most {MAX_COMMENT:,} characters)."})
    previous = survey.rating
    survey.rating, survey.comment = rating, comment
    survey.answered_at = survey.answered_at or timezone.now()
    survey.save(update_fields=["rating", "comment", "answered_at"])
    data = {"rating": rating, "comment": comment[:500]}
    if previous is not None:
        data["previous"] = previous
    TicketEvent.objects.create(ticket=survey.ticket, kind=TicketEvent.Kind.CSAT, data=data)
    webhook_events.ticket_event_on_commit(CSAT_RECEIVED, survey.ticket, rating=rating, comment=comment)
    return survey
