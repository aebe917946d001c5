"""Lead intelligence: conversion probability (trained model or a stated heuristic), risks, outreach plan, similar won
leads. Reads only; the lead page's card and the API's /intelligence endpoint both call `lead_intelligence`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, DateTimeField, F, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ai import facade as ai
from ai.contracts import OutcomeData
from customers import facade as customers

from .models import Lead, LeadActivity, LeadStageChange, StageKind
from .outreach import generated_drafts

OUTCOME_MODEL = "leads.conversion"
EMBED_SOURCE = "leads.lead"
NO_ACTIVITY_DAYS = 14  # a lead untouched this long is at risk
DISCOUNT_WORDS = re.compile(
    r"\b(discount\w*|rebate|cheaper|price (?:cut|reduction)|lower (?:the )?price|\d+ ?% off)\b", re.IGNORECASE
)
# The heuristic: the stage's win probability, scaled by how recently anyone worked the lead.
RECENCY_FACTORS = ((7, 1.1), (14, 1.0), (30, 0.8))  # (at most this many days since an activity, factor)
STALE_FACTOR = 0.6  # no activity for over 30 days, or none at all
OUTREACH_STEPS = (
    (0, "email", "Follow up on {title}"),
    (2, "call", "Call {contact_first} to confirm needs and timeline"),
    (5, "meeting", "Propose a walkthrough of {title}"),
    (10, "email", "Check in before the decision"),
)


# --- Features: the same fields for training (closed leads, as they stood when they closed) and for prediction --


def _annotated(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """Leads with their activity count, last activity and furthest open stage reached (one query)."""
    reached = (
        LeadStageChange.objects.filter(lead=OuterRef("pk"), to_stage__kind=StageKind.OPEN)
        .order_by("-to_stage__order", "-id")
        .values("to_stage__name")[:1]
    )
    return queryset.annotate(
        activity_count=Count("activities", distinct=True),
        last_activity=Max(Coalesce("activities__done_at", "activities__created", output_field=DateTimeField())),
        reached=Subquery(reached),
        tier=F("customer__tier"),  # customers' facade has no tier reader; the foreign key is leads' own
    ).select_related("stage")


def _row(lead: Lead, at: datetime) -> dict[str, Any]:
    """What was known about `lead` at `at` (its close for a closed lead, now for an open one): never its outcome."""
    last = lead.last_activity if lead.last_activity and lead.last_activity <= at else None
    return {
        "source": lead.source,
        "owner": str(lead.owner_id) if lead.owner_id else None,
        "value": float(lead.value),
        "currency": lead.currency,
        "stage_reached": lead.reached or (lead.stage.name if lead.stage.kind == StageKind.OPEN else None),
        "days_open": max(0, (at - lead.created).days),
        "activities": int(lead.activity_count),
        "days_since_activity": (at - last).days if last else None,
        "has_contact": "yes" if lead.contact_id else "no",
        "company_tier": lead.tier or None,
    }


def _closed_at(lead: Lead) -> datetime:
    # Only a reference time for the durations above; the outcome itself never becomes a field.
    return lead.won_at or lead.lost_at or lead.updated


def conversion_data() -> OutcomeData:
    """Closed (won or lost) leads, oldest close first, for the "leads.conversion" outcome model."""
    closed = _annotated(Lead.objects.filter(stage__kind__in=[StageKind.WON, StageKind.LOST]))
    leads = sorted(closed, key=lambda lead: (_closed_at(lead), lead.pk))
    rows = tuple(_row(lead, _closed_at(lead)) for lead in leads)
    outcomes = tuple(lead.stage.kind == StageKind.WON for lead in leads)
    marks = ",".join(f"{lead.pk}:{int(won)}" for lead, won in zip(leads, outcomes, strict=True))
    digest = hashlib.sha256(marks.encode())
    return OutcomeData(
        rows, outcomes, ("Won", "Lost"), {"leads": len(rows)}, fingerprint=f"{len(rows)}:{digest.hexdigest()[:32]}"
    )


def register_outcome_source() -> None:
    ai.register_outcome_source(
        OUTCOME_MODEL,
        title="Lead conversion",
        collect=conversion_data,
        description="Whether a lead is won, from its source, owner, value, stage reached, age and activity.",
        noun="leads",
    )


# --- Probability ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probability:
    percent: int
    drivers: list[str]
    model: str  # "leads.conversion v3", or "" for the heuristic
    note: str  # what the figure is based on, for people


def heuristic_probability(stage_probability: int, days_since_activity: int | None) -> float:
    """The stage's win probability × a recency factor: ×1.1 if worked within 7 days, ×1 within 14, ×0.8 within
    30, ×0.6 beyond (or never); capped at 0.95."""
    factor = STALE_FACTOR
    if days_since_activity is not None:
        factor = next((f for days, f in RECENCY_FACTORS if days_since_activity <= days), STALE_FACTOR)
    return min(0.95, stage_probability / 100 * factor)


def lead_conversion_probability(lead: Lead, row: dict[str, Any], *, user: Any = None) -> Probability:
    prediction = ai.outcome_predict(OUTCOME_MODEL, row, user=user, drivers=3)
    if prediction is not None:
        return Probability(
            round(prediction.probability * 100),
            [driver.phrase for driver in prediction.drivers],
            prediction.model or f"{OUTCOME_MODEL} v{prediction.version}",
            "Trained on this workspace's won and lost leads.",
        )
    needed = ai.outcome_examples_needed()
    since = row["days_since_activity"]
    worked = f"last activity {since} days ago" if since is not None else "no activity yet"
    return Probability(
        round(heuristic_probability(lead.stage.probability, since) * 100),
        [f"Stage {lead.stage.name} is {lead.stage.probability}% likely", f"Adjusted for recency: {worked}"],
        "",
        f"Heuristic until {needed} won and {needed} lost leads (then a model learns from them).",
    )


# --- Analysis: summary and risks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Risk:
    code: str
    message: str


def lead_risks(lead: Lead, row: dict[str, Any], *, texts: list[str], company_contacts: int, today: date) -> list[Risk]:
    risks = []
    since = row["days_since_activity"]
    if since is None or since >= NO_ACTIVITY_DAYS:
        said = "No activity yet" if since is None else f"No activity for {since} days"
        risks.append(Risk("no_activity", f"{said}: the lead may be going cold."))
    if lead.expected_close and lead.expected_close < today:
        risks.append(Risk("close_date_passed", f"The expected close date ({lead.expected_close:%b %-d}) has passed."))
    if company_contacts <= 1:
        who = "one contact" if lead.contact_id else "no contact"
        risks.append(Risk("single_threaded", f"Single-threaded: {who} at the company; find another stakeholder."))
    if any(DISCOUNT_WORDS.search(text) for text in texts):
        risks.append(Risk("discount_asked", "A discount was asked for: protect the value with a clear offer."))
    return risks


def _summary(lead: Lead, row: dict[str, Any]) -> str:
    company = lead.customer.name if lead.customer_id else "a prospect without a company"
    close = f", expected to close {lead.expected_close:%b %-d, %Y}" if lead.expected_close else ""
    return (
        f"{lead.title}: {lead.value:,.0f} {lead.currency} with {company}, in {lead.stage.name} "
        f"(open {row['days_open']} days, {row['activities']} activities){close}."
    )


# --- Outreach plan ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    day: date
    kind: str
    subject: str
    draft: str


def _template_plan(lead: Lead, today: date) -> list[Step]:
    name = lead.contact.name if lead.contact_id else ""
    first = name.split()[0] if name else "there"
    fields = {"title": lead.title, "contact_first": first if name else "the buyer"}
    company = lead.customer.name if lead.customer_id else "your team"
    steps = []
    for offset, kind, subject in OUTREACH_STEPS:
        subject = subject.format(**fields)
        draft = ""
        if kind == "email":
            upcoming = lead.expected_close and lead.expected_close >= today
            before = f" before {lead.expected_close:%B %-d}" if upcoming else ""
            draft = (
                f"Hi {first},\n\nFollowing up on {lead.title} for {company}. "
                f"Is there anything you need from us to move forward{before}?\n\nBest regards"
            )
        steps.append(Step(today + timedelta(days=offset), kind, subject, draft))
    return steps


def lead_outreach_plan(lead: Lead, *, user: Any = None, today: date | None = None) -> tuple[list[Step], str]:
    """Dated steps with email drafts, and who drafted them: "template", or the generative model's name when a cloud
    provider wrote every email draft and each passed the check (leads.outreach)."""
    today = today or timezone.localdate()
    steps = _template_plan(lead, today)
    generated = generated_drafts(lead, steps, user=user, today=today)
    if generated is None:
        return steps, "template"
    drafts, model = generated
    written = iter(drafts)
    steps = [Step(s.day, s.kind, s.subject, next(written)) if s.kind == "email" else s for s in steps]
    return steps, model


# --- Similar won leads --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarLead:
    lead_id: int
    title: str
    source: str
    value: float
    activities: int
    days_to_close: int | None
    score: float


def _text(lead: Lead, notes: list[str]) -> str:
    return " ".join([lead.title, *notes])[:2000]


def _value_band(value: float) -> int:
    return len(str(int(max(value, 1))))  # orders of magnitude: 1 000s, 10 000s…


def lead_similar_won(lead: Lead, *, notes: list[str], k: int = 3) -> list[SimilarLead]:
    """Won leads closest in meaning (title + activity notes) and in fields (same source, same value band)."""
    won = Lead.objects.filter(stage__kind=StageKind.WON).exclude(pk=lead.pk)
    candidates = list(won.annotate(activity_count=Count("activities")).order_by("-won_at", "-id")[:200])
    if not candidates:
        return []
    ai.index_texts(source=EMBED_SOURCE, items=[(c.pk, c.title) for c in candidates])
    meaning = dict(ai.search_similar(source=EMBED_SOURCE, text=_text(lead, notes), k=50, exclude_object_id=lead.pk))
    band = _value_band(float(lead.value))
    scored = []
    for other in candidates:
        score = 0.6 * float(meaning.get(str(other.pk), 0.0))
        score += 0.25 * (other.source == lead.source) + 0.15 * (_value_band(float(other.value)) == band)
        days = (other.won_at - other.created).days if other.won_at else None
        scored.append(SimilarLead(other.pk, other.title, other.get_source_display(), float(other.value),
                                  other.activity_count, days, round(score, 3)))  # fmt: skip
    return sorted(scored, key=lambda s: (-s.score, s.lead_id))[:k]


# --- Everything for one lead ---------------------------------------------------------------------------------


@dataclass
class Intelligence:
    closed: bool
    summary: str
    probability: Probability | None
    risks: list[Risk] = field(default_factory=list)
    plan: list[Step] = field(default_factory=list)
    plan_by: str = "template"
    similar: list[SimilarLead] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def lead_intelligence(*, lead_id: int, user: Any = None, today: date | None = None) -> Intelligence:
    """Raises Lead.DoesNotExist."""
    today = today or timezone.localdate()
    lead = _annotated(Lead.objects.select_related("customer", "contact")).get(pk=lead_id)
    row = _row(lead, timezone.now())
    summary = _summary(lead, row)
    if lead.stage.kind != StageKind.OPEN:
        return Intelligence(True, summary, None)
    notes = [f"{a.subject} {a.notes}" for a in LeadActivity.objects.filter(lead=lead).only("subject", "notes")]
    contacts = customers.contact_queryset().filter(customer_id=lead.customer_id).count() if lead.customer_id else 0
    plan, plan_by = lead_outreach_plan(lead, user=user, today=today)
    return Intelligence(
        False,
        summary,
        lead_conversion_probability(lead, row, user=user),
        lead_risks(lead, row, texts=notes, company_contacts=contacts, today=today),
        plan,
        plan_by,
        lead_similar_won(lead, notes=notes),
    )
