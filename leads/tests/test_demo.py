"""Demo leads: the usual pipeline, 300 leads over 18 months with dated moves, and outcomes a model can learn from."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from accounts.tests.factories import UserFactory
from customers.tests.factories import ContactFactory
from leads.demo import seed_leads
from leads.models import Lead, LeadStageChange, StageKind

pytestmark = pytest.mark.django_db


def test_seed_leads_builds_a_pipeline_with_a_learnable_history_and_is_idempotent():
    ContactFactory.create_batch(20)
    sellers = [UserFactory(role="sales"), UserFactory(role="admin")]

    assert seed_leads(owners=sellers, leads=300, seed=1) == 300
    assert seed_leads(owners=sellers, leads=300, seed=1) == 0

    leads = Lead.objects.all()
    assert leads.count() == 300
    assert [stage.name for stage in leads.first().stage.pipeline.stages.order_by("order")] == [
        "Prospect", "Qualified", "Proposal", "Negotiation", "Won", "Lost",
    ]  # fmt: skip
    assert leads.filter(created__lt=timezone.now() - timedelta(days=365)).exists()
    assert not leads.filter(created__lt=timezone.now() - timedelta(days=549)).exists()
    assert leads.exclude(contact=None).filter(customer=None).count() == 0
    won = leads.filter(stage__kind=StageKind.WON)
    lost = leads.filter(stage__kind=StageKind.LOST)
    assert won.count() > 30 and lost.count() > 30 and leads.filter(stage__kind=StageKind.OPEN).count() > 10
    assert not lost.filter(lost_reason="").exists() and not won.filter(won_at=None).exists()
    # Every lead's history starts with its creation and ends in its current stage, in date order.
    for lead in leads[:50]:
        changes = list(LeadStageChange.objects.filter(lead=lead).order_by("at", "id"))
        assert changes[0].from_stage is None and changes[-1].to_stage_id == lead.stage_id
        assert all(a.at <= b.at for a, b in itertools.pairwise(changes))
    # Referrals win more often than cold outbound: something for a model to learn.
    rates = {}
    for source in ("referral", "outbound"):
        closed = leads.filter(source=source).exclude(stage__kind=StageKind.OPEN)
        counts = closed.aggregate(total=Count("id"), won=Count("id", filter=Q(stage__kind=StageKind.WON)))
        rates[source] = counts["won"] / max(counts["total"], 1)
    assert rates["referral"] > rates["outbound"]


def test_seed_capture_makes_a_web_form_and_its_leads_linking_known_contacts():
    from leads.demo import WEB_FORM_PEOPLE, seed_capture
    from leads.models import LeadCaptureForm

    contacts = ContactFactory.create_batch(3)
    seller = UserFactory(role="sales")

    made = seed_capture(owners=[seller], slug="acme", seed=1)

    assert made == len(WEB_FORM_PEOPLE) + 3
    assert seed_capture(owners=[seller], slug="acme", seed=1) == 0
    form = LeadCaptureForm.objects.get()
    assert form.enabled and "https://www.acme.test" in form.allowed_origins and form.default_owner == seller
    web = Lead.objects.filter(source=Lead.Source.WEB_FORM)
    assert web.count() == made and not web.exclude(owner=seller).exists()
    assert set(web.exclude(contact=None).values_list("contact_id", flat=True)) == {c.pk for c in contacts}


def test_seed_lead_extras_adds_a_partner_pipeline_and_saved_views_once():
    from leads.demo import SHARED_VIEWS, seed_lead_extras
    from leads.models import LeadSavedView, Pipeline

    sellers = [UserFactory(role="sales"), UserFactory(role="admin")]
    seed_leads(owners=sellers, leads=20, seed=1)

    assert seed_lead_extras(owners=sellers, seed=1, leads=12) == 12
    assert seed_lead_extras(owners=sellers, seed=1, leads=12) == 0

    partners = Pipeline.objects.get(name="Partnerships")
    assert not partners.is_default and Lead.objects.filter(stage__pipeline=partners).count() == 12
    assert not Lead.objects.filter(stage__pipeline=partners).exclude(stage__kind=StageKind.OPEN).exists()
    shared = LeadSavedView.objects.filter(shared=True)
    assert shared.count() == len(SHARED_VIEWS) and set(shared.values_list("owner__role", flat=True)) == {"admin"}
    assert LeadSavedView.objects.filter(shared=False).count() == len(sellers)
