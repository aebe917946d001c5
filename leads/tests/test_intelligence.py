"""Lead intelligence: no leakage in the conversion rows, heuristic until a model is deployed, risk rules, outreach
plan from templates, similar won leads, the lazy card and the API endpoint."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ai import facade as ai
from customers.tests.factories import ContactFactory, CustomerFactory
from leads import intelligence
from leads.models import LeadStageChange

from .factories import LeadActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db

LEAKY = {"won_at", "lost_at", "lost_reason", "stage", "probability", "updated"}


def _closed(stage, *, source: str, days_ago: int, activities: int = 0, **fields):
    closed_at = timezone.now() - timedelta(days=days_ago)
    won = stage.kind == "won"
    lead = LeadFactory(
        stage=stage,
        source=source,
        created=closed_at - timedelta(days=20),
        won_at=closed_at if won else None,
        lost_at=None if won else closed_at,
        lost_reason="" if won else "Price too high",
        **fields,
    )
    for _ in range(activities):
        LeadActivityFactory(lead=lead, created=closed_at - timedelta(days=5), done=True, done_at=closed_at)
    return lead


def test_conversion_rows_are_closed_leads_oldest_first_without_outcome_fields(stages):
    company = CustomerFactory(tier="enterprise")
    newer = _closed(stages["Lost"], source="outbound", days_ago=1, customer=company)
    older = _closed(stages["Won"], source="referral", days_ago=30, activities=2)
    LeadStageChange.objects.create(lead=newer, to_stage=stages["Proposal"], at=newer.created)
    LeadFactory(stage=stages["Prospect"])  # open: not an example

    data = intelligence.conversion_data()

    assert data.outcomes == (True, False) and data.outcome_names == ("Won", "Lost")
    first, second = data.rows
    assert first["source"] == "referral" and first["activities"] == 2 and first["days_since_activity"] == 0
    assert second["stage_reached"] == "Proposal" and second["company_tier"] == "enterprise"
    assert second["days_open"] == 20 and first["value"] == float(older.value)
    for row in data.rows:
        assert not LEAKY & set(row), "no field may reveal the outcome"
        assert "Won" not in row.values() and "Lost" not in row.values()
    assert data.fingerprint and data.sources == {"leads": 2}


def test_probability_is_the_recency_adjusted_stage_heuristic_until_a_model_is_deployed(stages):
    lead = LeadFactory(stage=stages["Proposal"])
    LeadActivityFactory(lead=lead, done=True, done_at=timezone.now() - timedelta(days=20))

    report = intelligence.lead_intelligence(lead_id=lead.pk)

    needed = ai.outcome_examples_needed()
    assert report.probability.percent == 40  # 50% stage × 0.8 (last activity 20 days ago)
    assert report.probability.model == ""
    assert f"Heuristic until {needed} won and {needed} lost leads" in report.probability.note


def test_heuristic_rewards_recent_work_and_discounts_silence():
    assert intelligence.heuristic_probability(50, 2) == pytest.approx(0.55)
    assert intelligence.heuristic_probability(50, 10) == pytest.approx(0.5)
    assert intelligence.heuristic_probability(50, None) == pytest.approx(0.3)
    assert intelligence.heuristic_probability(100, 1) == 0.95


def test_probability_comes_from_the_deployed_model_with_its_version_and_drivers(stages):
    needed = ai.outcome_examples_needed()
    for index in range(needed + 5):
        _closed(stages["Won"], source="referral", days_ago=200 - index, activities=2)
        _closed(stages["Lost"], source="outbound", days_ago=199 - index)
    data = intelligence.conversion_data()
    report = ai.outcome_model_train(intelligence.OUTCOME_MODEL, data.rows, data.outcomes, outcome_names=("Won", "Lost"))
    assert report.deployed, report.decision
    referral = LeadFactory(stage=stages["Qualified"], source="referral")
    outbound = LeadFactory(stage=stages["Qualified"], source="outbound")

    good = intelligence.lead_intelligence(lead_id=referral.pk).probability
    poor = intelligence.lead_intelligence(lead_id=outbound.pk).probability

    assert good.model.startswith("leads.conversion v") and good.note.startswith("Trained")
    assert good.percent > poor.percent and good.drivers


def test_risk_rules_on_a_crafted_lead(stages):
    company = CustomerFactory()
    contact = ContactFactory(customer=company, name="Dana Scully")
    lead = LeadFactory(
        stage=stages["Negotiation"],
        customer=company,
        contact=contact,
        expected_close=date(2026, 1, 10),
        created=timezone.now() - timedelta(days=60),
    )
    LeadActivityFactory(lead=lead, subject="Pricing call", notes="They asked for a 15% discount.",
                        done=True, done_at=timezone.now() - timedelta(days=30))  # fmt: skip

    report = intelligence.lead_intelligence(lead_id=lead.pk, today=date(2026, 2, 1))

    assert {risk.code for risk in report.risks} == {
        "no_activity", "close_date_passed", "single_threaded", "discount_asked"
    }  # fmt: skip
    assert "No activity for 30 days" in report.risks[0].message


def test_a_worked_multi_threaded_lead_has_no_risks(stages):
    company = CustomerFactory()
    contact = ContactFactory(customer=company)
    ContactFactory(customer=company)
    lead = LeadFactory(stage=stages["Proposal"], customer=company, contact=contact,
                       expected_close=timezone.localdate() + timedelta(days=10))  # fmt: skip
    LeadActivityFactory(lead=lead, subject="Demo", notes="Went well", done=True, done_at=timezone.now())

    assert intelligence.lead_intelligence(lead_id=lead.pk).risks == []


def test_outreach_plan_is_dated_and_grounded_in_the_lead_without_a_generative_provider(stages):
    contact = ContactFactory(name="Fox Mulder")
    lead = LeadFactory(stage=stages["Qualified"], title="Live chat for Acme", contact=contact,
                       customer=contact.customer, expected_close=date(2026, 3, 1))  # fmt: skip

    steps, by = intelligence.lead_outreach_plan(lead, today=date(2026, 2, 1))

    assert by == "template" and not ai.can_generate()
    assert [step.day for step in steps] == [date(2026, 2, 1), date(2026, 2, 3), date(2026, 2, 6), date(2026, 2, 11)]
    assert steps[0].draft.startswith("Hi Fox,") and "Live chat for Acme" in steps[0].draft
    assert "before March 1" in steps[0].draft


def test_similar_won_leads_prefer_meaning_and_matching_fields(stages):
    now = timezone.now()
    LeadFactory(stage=stages["Won"], title="Live chat for Globex", source="referral", value=5000,
                won_at=now, created=now - timedelta(days=12))  # fmt: skip
    LeadFactory(stage=stages["Won"], title="Annual renewal for Initech", source="outbound", value=90,
                won_at=timezone.now())  # fmt: skip
    lead = LeadFactory(stage=stages["Prospect"], title="Live chat for Acme", source="referral", value=4000)

    similar = intelligence.lead_intelligence(lead_id=lead.pk).similar

    assert similar[0].title == "Live chat for Globex" and similar[0].days_to_close == 12
    assert similar[0].score > similar[1].score


def test_closed_leads_get_only_a_summary(stages):
    lead = _closed(stages["Won"], source="referral", days_ago=3)

    report = intelligence.lead_intelligence(lead_id=lead.pk)

    assert report.closed and report.probability is None and report.plan == []


def test_lead_page_lazy_loads_the_card(client, login, stages):
    login("sales")
    lead = LeadFactory(stage=stages["Proposal"])
    card = reverse("leads:lead_intelligence", args=[lead.pk])

    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    response = client.get(card)

    assert f'hx-get="{card}"' in page and 'hx-trigger="load"' in page
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="lead-probability"' in html and "Heuristic until" in html


def test_api_returns_the_intelligence(client, login, stages):
    login("viewer")
    lead = LeadFactory(stage=stages["Proposal"])

    response = client.get(reverse("leads_api:lead_intelligence", args=[lead.pk]))
    missing = client.get(reverse("leads_api:lead_intelligence", args=[lead.pk + 999]))

    body = response.json()
    assert response.status_code == 200 and body["closed"] is False
    assert body["probability"]["model"] == "" and len(body["plan"]) == 4
    assert "no_activity" in {risk["code"] for risk in body["risks"]}
    assert missing.status_code == 404


def test_the_documented_probability_allows_the_heuristics_empty_model():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf="config.urls.tenant").get_schema(request=None, public=True)

    assert "minLength" not in schema["components"]["schemas"]["Probability"]["properties"]["model"]
