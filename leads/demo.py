"""Demo leads: the usual pipeline and about 300 leads over the last 18 months with a history of wins and losses;
a web form per workspace with a few leads it brought in (seed_capture); a second pipeline of partner deals and saved
views of the lead list (seed_lead_extras).

Deterministic for a seed. Whether a lead is won depends, through a logistic model with noise, on its source
(referrals and partners win more, cold outbound less), its value against the company's size (big asks lose more),
and how many activities it had (worked leads win), so a scoring model trained on the history can learn something.
Each lead walks the stages with dated moves; leads whose walk reaches today are still open where today finds them.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from customers import facade as customers

from .capture import CaptureSubmission, capture_form_create, capture_submit
from .models import (
    Lead,
    LeadActivity,
    LeadCaptureForm,
    LeadSavedView,
    LeadSource,
    LeadStageChange,
    Pipeline,
    Stage,
    StageKind,
)
from .services import POSITION_STEP, pipeline_create, pipeline_default_get_or_create

HISTORY_DAYS = 548  # 18 months
SOURCE_WEIGHTS = {
    LeadSource.WEBSITE: 30,
    LeadSource.REFERRAL: 14,
    LeadSource.EVENT: 12,
    LeadSource.OUTBOUND: 22,
    LeadSource.PARTNER: 8,
    LeadSource.SUPPORT: 9,
    LeadSource.OTHER: 5,
}
# Log-odds a source adds to winning.
SOURCE_EFFECT = {
    LeadSource.WEBSITE: 0.0,
    LeadSource.REFERRAL: 1.1,
    LeadSource.EVENT: 0.2,
    LeadSource.OUTBOUND: -0.9,
    LeadSource.PARTNER: 0.8,
    LeadSource.SUPPORT: 0.6,
    LeadSource.OTHER: -0.2,
}
# A typical deal per customer tier (seats × price), in the workspace's currency.
TIER_VALUE = {"free": 2_000, "starter": 6_000, "professional": 20_000, "enterprise": 80_000}
PRODUCTS = ("Support seats", "Help center", "Live chat", "AI assistant", "SLA add-on", "Voice", "Annual renewal")
LOST_REASONS = (
    "Went with a competitor",
    "No budget this year",
    "Price too high",
    "No decision / went dark",
    "Missing integration",
    "Timing: revisit next quarter",
)
ACTIVITY_SUBJECTS = {
    LeadActivity.Kind.CALL: ("Discovery call", "Follow-up call", "Pricing call"),
    LeadActivity.Kind.EMAIL: ("Send proposal", "Send case study", "Answer security questionnaire"),
    LeadActivity.Kind.MEETING: ("Demo", "Stakeholder meeting", "Contract review"),
    LeadActivity.Kind.TASK: ("Prepare quote", "Check references", "Update CRM notes"),
}


def seed_leads(*, owners: Sequence, leads: int = 300, seed: int = 0) -> int:
    """Adds the default pipeline (if missing) and `leads` leads; returns how many it added (0 if any existed)."""
    if Lead.objects.exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    contacts = customers.contact_requester_rows()  # (contact id, customer id, tier, name, created)
    with transaction.atomic():
        pipeline = pipeline_default_get_or_create()
        stages = list(pipeline.stages.order_by("order", "id"))
        plans = [_plan(rng, index, stages, contacts, owners, now) for index in range(leads)]
        _position(plans)
        made = Lead.objects.bulk_create([plan["lead"] for plan in plans], batch_size=1000)
        changes, activities = [], []
        for plan, lead in zip(plans, made, strict=True):
            changes += [LeadStageChange(lead=lead, **change) for change in plan["changes"]]
            activities += [LeadActivity(lead=lead, **activity) for activity in plan["activities"]]
        LeadStageChange.objects.bulk_create(changes, batch_size=2000)
        LeadActivity.objects.bulk_create(activities, batch_size=2000)
    with connection.cursor() as cursor:
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Lead, LeadStageChange, LeadActivity))
        cursor.execute(f"ANALYZE {tables}")
    return len(made)


def seed_open_leads(
    *, companies: Sequence[tuple[int, int | None, str]], owners: Sequence, seed: int = 0, now: datetime | None = None
) -> list[int]:
    """An open lead in the default pipeline, past its first stage and moved there step by step over the last weeks,
    for each (customer id, contact id, name) given (other apps' demos: a company they need in the pipeline); returns
    the new leads' ids. Adds whatever it is given: the caller decides who lacks one."""
    if not companies:
        return []
    rng = random.Random(seed)
    now = now or timezone.now()
    with transaction.atomic():
        open_stages = [
            stage
            for stage in pipeline_default_get_or_create().stages.order_by("order", "id")
            if stage.kind == StageKind.OPEN
        ]
        top = Lead.objects.filter(stage__in=open_stages).order_by("position").values_list("position", flat=True).first()
        plans = []
        for index, (customer_id, contact_id, name) in enumerate(companies):
            path = open_stages[: rng.randint(min(2, len(open_stages)), len(open_stages))]
            moves = sorted((now - timedelta(days=rng.uniform(3, 50)) for _ in path), reverse=False)
            owner = rng.choice(owners) if owners else None
            value = round(rng.choice(list(TIER_VALUE.values())[1:]) * math.exp(rng.gauss(0, 0.4)) / 100) * 100
            lead = Lead(
                title=f"{rng.choice(PRODUCTS)} for {name}"[:200], customer_id=customer_id, contact_id=contact_id,
                source=rng.choice([LeadSource.SUPPORT, LeadSource.REFERRAL, LeadSource.WEBSITE]), owner=owner,
                value=Decimal(value), currency="USD", expected_close=(now + timedelta(days=rng.randint(10, 60))).date(),
                stage=path[-1], probability=path[-1].probability, created=moves[0], updated=moves[-1],
                position=(top or 0.0) - (index + 1) * POSITION_STEP,
            )  # fmt: skip
            changes = [
                LeadStageChange(from_stage=previous, to_stage=stage, at=at, actor=owner)
                for previous, stage, at in zip([None, *path[:-1]], path, moves, strict=True)
            ]
            plans.append((lead, changes))
        made = Lead.objects.bulk_create([lead for lead, _ in plans])
        for lead, changes in plans:
            for change in changes:
                change.lead = lead
        LeadStageChange.objects.bulk_create([change for _, changes in plans for change in changes])
    return [lead.pk for lead in made]


def _plan(rng: random.Random, index: int, stages: list[Stage], contacts: list, owners: Sequence, now: datetime):
    open_stages = [stage for stage in stages if stage.kind == StageKind.OPEN]
    won = next(stage for stage in stages if stage.kind == StageKind.WON)
    lost = next(stage for stage in stages if stage.kind == StageKind.LOST)
    source = rng.choices(list(SOURCE_WEIGHTS), weights=list(SOURCE_WEIGHTS.values()))[0]
    contact = rng.choice(contacts) if contacts and rng.random() < 0.92 else None
    tier = contact[2] if contact else "starter"
    typical = TIER_VALUE.get(tier, 6_000)
    value = round(typical * math.exp(rng.gauss(0, 0.6)) / 100) * 100 or 100
    activity_count = min(9, int(rng.expovariate(1 / 2.5)))
    created = now - timedelta(days=rng.uniform(0, HISTORY_DAYS), hours=rng.uniform(0, 8))
    # Log-odds of winning: source, activities, and how the ask compares with what this kind of company pays.
    logit = -0.9 + SOURCE_EFFECT[source] + 0.35 * activity_count - 0.9 * math.log(value / typical) + rng.gauss(0, 0.5)
    wins = rng.random() < 1 / (1 + math.exp(-logit))
    # The stage index it is lost from (reaches stages 0..last_open), or all open stages then won.
    last_open = len(open_stages) - 1 if wins else min(len(open_stages) - 1, int(rng.expovariate(1 / 1.2)))
    path = [*open_stages[: last_open + 1], won if wins else lost]
    changes, at, previous = [], created, None
    for stage in path:
        if at > now:
            break
        changes.append({"from_stage": previous, "to_stage": stage, "at": at, "actor": None})
        previous = stage
        at = at + timedelta(days=1 + rng.expovariate(1 / 12), hours=rng.uniform(0, 8))
    stage = changes[-1]["to_stage"]
    closed_at = changes[-1]["at"]
    owner = rng.choice(owners) if owners else None
    for change in changes:
        change["actor"] = owner
    lead = Lead(
        title=f"{rng.choice(PRODUCTS)} for {contact[3] if contact else 'a new prospect'}"[:200],
        customer_id=contact[1] if contact else None,
        contact_id=contact[0] if contact else None,
        source=source,
        owner=owner,
        value=Decimal(value),
        currency="USD",
        expected_close=(created + timedelta(days=rng.randint(20, 90))).date(),
        stage=stage,
        probability=stage.probability,
        lost_reason=rng.choice(LOST_REASONS) if stage.kind == StageKind.LOST else "",
        tags=rng.sample(["inbound", "upsell", "emea", "americas", "apac", "q-end"], k=rng.randint(0, 2)),
        created=created,
        updated=closed_at,
        won_at=closed_at if stage.kind == StageKind.WON else None,
        lost_at=closed_at if stage.kind == StageKind.LOST else None,
    )
    end = closed_at if stage.kind != StageKind.OPEN else now + timedelta(days=14)
    activities = [_activity(rng, created, end, now, owner) for _ in range(activity_count)]
    return {"lead": lead, "changes": changes, "activities": activities}


def _activity(rng: random.Random, start: datetime, end: datetime, now: datetime, owner) -> dict:
    kind = rng.choice(list(ACTIVITY_SUBJECTS))
    due = start + (end - start) * rng.random()
    done = due < now
    remind = due - timedelta(hours=2) if not done else None
    return {
        "kind": kind,
        "subject": rng.choice(ACTIVITY_SUBJECTS[kind]),
        "due_at": due,
        "remind_at": remind,
        # Reminders of the past count as sent: a fresh demo does not email a backlog of them (leads.reminders).
        "reminded_at": remind if remind is not None and remind < now else None,
        "done": done,
        "done_at": due if done else None,
        "created_by": owner,
        "created": start,
    }


def _position(plans: list[dict]) -> None:
    """Newest first in every column, as if each had been added on top."""
    by_stage: dict[int, list[Lead]] = defaultdict(list)
    for plan in plans:
        by_stage[plan["lead"].stage.pk].append(plan["lead"])
    for column in by_stage.values():
        column.sort(key=lambda lead: lead.created, reverse=True)
        for rank, lead in enumerate(column):
            lead.position = rank * POSITION_STEP


# --- Web form (leads.capture) ---------------------------------------------------------------------

WEB_FORM_PEOPLE = (
    ("Priya Raman", "Lumen Analytics", "We need a shared inbox for 25 agents.", ""),
    ("Tom Becker", "Nordwind Logistics", "Looking at chat for our customer portal.", "+49 30 901820"),
    ("Sofia Alves", "", "Do you offer discounts for non-profits?", ""),
    ("Kenji Watanabe", "Harbor Foods", "Please call me about the AI assistant.", "+81 3 1234 5678"),
    ("Grace Okafor", "Brightpath Schools", "Can we try the help center first?", ""),
    ("Liam Murphy", "Cliffside Hotels", "", "+353 1 555 0199"),
)


def seed_capture(*, owners: Sequence, slug: str, seed: int = 0, known_contacts: int = 3) -> int:
    """A switched-on web form (allowed on the workspace's demo site) and leads sent through it, a few by people who
    are already contacts (linked, not duplicated); returns how many leads it added (0 if a web form exists)."""
    if LeadCaptureForm.objects.exists():
        return 0
    rng = random.Random(seed)
    form = capture_form_create(
        name="Website contact form",
        enabled=True,
        allowed_origins=[f"https://www.{slug}.test", "http://localhost:8080"],
        default_owner=owners[0] if owners else None,
        shown_fields=[LeadCaptureForm.Field.COMPANY, LeadCaptureForm.Field.PHONE, LeadCaptureForm.Field.MESSAGE],
    )
    people = [
        (name, f"{name.split()[0].lower()}@{(company or name).lower().replace(' ', '')}.example.net", company, note)
        for name, company, *note in WEB_FORM_PEOPLE
    ]
    contacts = customers.contact_queryset().exclude(email="").select_related("customer").order_by("id")
    people += [
        (contact.name, contact.email, contact.customer.name, ["Following up on our support chat: pricing?", ""])
        for contact in contacts[:known_contacts]
    ]
    made = 0
    for name, email, company, (message, phone) in people:
        submission = CaptureSubmission(
            submission_id=uuid.UUID(int=rng.getrandbits(128)),
            name=name,
            email=email,
            company=company,
            phone=phone,
            message=message,
        )
        made += capture_submit(form=form, submission=submission, origin=form.allowed_origins[0])[1]
    return made


# --- A second pipeline and the list's saved views -----------------------------------------------

PARTNER_PIPELINE = "Partnerships"
PARTNER_STAGES = (
    ("Sourced", 10, StageKind.OPEN),
    ("Intro call", 30, StageKind.OPEN),
    ("Co-sell plan", 60, StageKind.OPEN),
    ("Signed", 100, StageKind.WON),
    ("Dropped", 0, StageKind.LOST),
)
PARTNER_NAMES = ("Northwind Consulting", "Bluebird Integrations", "Kestrel Digital", "Atlas Resellers", "Orbit MSP")
# Shared views every seller finds in the list's rail (leads.views_lists adds the built-in ones).
SHARED_VIEWS = (
    ("Big open deals (50k+)", {"status": "open", "value_min": "50000", "sort": "-value"}),
    ("Referrals closing this quarter", {"source": "referral", "status": "open", "close": "this_quarter"}),
    ("EMEA open pipeline", {"status": "open", "tag": "emea", "sort": "expected_close"}),
    ("Overdue close dates", {"status": "open", "close": "overdue", "sort": "expected_close"}),
)


def seed_lead_extras(*, owners: Sequence, seed: int = 0, leads: int = 24) -> int:
    """A second pipeline (partner deals, all still open) and shared and personal saved views of the list;
    returns how many partner leads it added (0 when the pipeline exists already)."""
    if Pipeline.objects.filter(name=PARTNER_PIPELINE).exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    with transaction.atomic():
        pipeline = pipeline_create(name=PARTNER_PIPELINE, stages=PARTNER_STAGES, is_default=False)
        open_stages = [stage for stage in pipeline.stages.order_by("order") if stage.kind == StageKind.OPEN]
        made = Lead.objects.bulk_create([_partner_lead(rng, index, open_stages, owners, now) for index in range(leads)])
        LeadStageChange.objects.bulk_create(
            LeadStageChange(lead=lead, from_stage=None, to_stage=lead.stage, actor=lead.owner, at=lead.created)
            for lead in made
        )
        manager = next((owner for owner in owners if owner.role in ("owner", "admin")), owners[0] if owners else None)
        LeadSavedView.objects.bulk_create(
            [LeadSavedView(name=name, filters=filters, owner=manager, shared=True) for name, filters in SHARED_VIEWS]
            + [
                LeadSavedView(name="My deals closing next month", owner=owner, filters={
                    "owner": "me", "status": "open", "close": "next_month", "sort": "expected_close"
                })
                for owner in owners
            ]
        )  # fmt: skip
    return len(made)


def _partner_lead(rng: random.Random, index: int, stages: list[Stage], owners: Sequence, now: datetime) -> Lead:
    stage = rng.choice(stages)
    created = now - timedelta(days=rng.uniform(1, 90))
    partner = PARTNER_NAMES[index % len(PARTNER_NAMES)]
    return Lead(
        title=f"{rng.choice(('Co-sell', 'Referral agreement', 'Reseller deal'))} with {partner}",
        company_name=partner,
        company_domain=partner.split()[0].lower() + ".example",
        source=LeadSource.PARTNER,
        owner=rng.choice(owners) if owners else None,
        value=Decimal(rng.randrange(5, 120) * 1000),
        currency="USD",
        expected_close=(now + timedelta(days=rng.randint(-10, 100))).date(),
        stage=stage,
        probability=stage.probability,
        tags=rng.sample(["partner", "emea", "americas", "apac"], k=rng.randint(1, 2)),
        position=index * POSITION_STEP,
        created=created,
        updated=created + timedelta(days=rng.uniform(0, 20)),
    )
