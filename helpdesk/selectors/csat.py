"""Satisfaction figures for dashboards: average rating, distribution and response rate over a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Avg, Count, Q
from django.urls import reverse
from django.utils import timezone

from core.links import workspace_url

from ..models import SatisfactionSurvey

EDIT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class CSATSummary:
    days: int
    sent: int
    answered: int
    average: float | None  # mean rating 1–5 of the answered surveys; None when none were answered
    distribution: dict[int, int]  # rating → how many, for every rating 1–5

    @property
    def response_rate(self) -> float | None:
        """Answered / sent, 0–1; None when no survey went out."""
        return self.answered / self.sent if self.sent else None

    @property
    def satisfied_share(self) -> float | None:
        """The usual "CSAT %": answers of 4 or 5 among all answers, 0–1."""
        return (self.distribution[4] + self.distribution[5]) / self.answered if self.answered else None


def csat_summary(days: int = 30, *, now=None) -> CSATSummary:
    """Surveys sent in the last `days` days (two queries)."""
    days = max(1, int(days))
    surveys = SatisfactionSurvey.objects.filter(sent_at__gte=(now or timezone.now()) - timedelta(days=days))
    totals = surveys.aggregate(
        sent=Count("id"), answered=Count("id", filter=Q(rating__isnull=False)), average=Avg("rating")
    )
    distribution = dict.fromkeys(range(1, 6), 0)
    rows = surveys.filter(rating__isnull=False).order_by().values_list("rating").annotate(count=Count("id"))
    for rating, count in rows:
        distribution[rating] = count
    average = round(float(totals["average"]), 2) if totals["average"] is not None else None
    return CSATSummary(days, totals["sent"], totals["answered"], average, distribution)


def survey_get_for_token(token: str) -> SatisfactionSurvey | None:
    """The survey a link names (tokens are random, unique per workspace), or None."""
    if not token or len(token) > 64:
        return None
    return SatisfactionSurvey.objects.select_related("ticket").filter(token=token).first()


def survey_url(survey: SatisfactionSurvey) -> str:
    return workspace_url(reverse("help_center:survey", args=[survey.token]))


def survey_editable(survey: SatisfactionSurvey, *, now=None) -> bool:
    """Open until answered, then changeable for EDIT_WINDOW after the first answer."""
    if survey.answered_at is None:
        return True
    return (now or timezone.now()) - survey.answered_at <= EDIT_WINDOW
