"""The quote copilot on a small handmade history: each risk fires (and stays quiet on a clean quote), suggestions'
why-figures, offline texts that carry only the quote's numbers, the generative path (OpenAI fake) refusing an
invented number, and the builder's panel: Add, Use, Dismiss recorded as AI feedback; the API's analysis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ai import facade as ai
from ai import services as ai_services
from ai.tests.fakes.openai_fake import OpenAIFake
from leads.tests.factories import LeadActivityFactory, LeadFactory
from quotes import copilot, copilot_writing, services
from quotes.models import Quote, QuoteLine, QuoteStatus

from .factories import ProductFactory, ProductPriceFactory, QuoteFactory, QuoteLineFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def product(sku: str, name: str, category: str, price: str, cost: str, tax: str = "20"):
    made = ProductFactory(sku=sku, name=name, category=category, cost=Decimal(cost), tax_rate=Decimal(tax))
    ProductPriceFactory(product=made, currency="USD", unit_price=Decimal(price))
    made.price = Decimal(price)
    return made


@pytest.fixture
def catalog(db) -> dict:
    return {
        "pro": product("SEAT-PRO", "Pro seat", "Licences", "49", "30"),
        "ent": product("SEAT-ENT", "Enterprise seat", "Licences", "99", "40"),
        "chat": product("ADD-CHAT", "Live chat", "Add-ons", "150", "20"),
        "onboard": product("SVC-ONBOARD", "Onboarding workshop", "Services", "1500", "600", tax="0"),
        "headset": product("HW-HEADSET", "USB headset", "Hardware", "89", "52"),
    }


@pytest.fixture
def history(catalog, customer) -> None:
    """10 accepted quotes: 4 × {pro, chat, onboard}, 2 × {pro, chat}, 2 × {pro}, 2 × {ent, onboard}.

    pro → chat: 6 of 8 (75 %), lift 0.75 / 0.6 = 1.25; pro ∧ chat → onboard: 4 of 6 (67 %). 22 item lines, four of
    them (pro in the first four quotes) at 10 % discount: the 90th percentile is 10 %. Totals 100…1000 USD: the
    75th percentile is 800."""
    baskets = [("pro", "chat", "onboard")] * 4 + [("pro", "chat")] * 2 + [("pro",)] * 2 + [("ent", "onboard")] * 2
    now = timezone.now()
    for index, basket in enumerate(baskets):
        quote = QuoteFactory(
            customer=customer, status=QuoteStatus.ACCEPTED, accepted_at=now - timedelta(days=30 - index),
            total=Decimal(100 * (index + 1)),
        )  # fmt: skip
        for key in basket:
            discount = Decimal(10) if key == "pro" and index < 4 else Decimal(0)
            QuoteLineFactory(quote=quote, product=catalog[key], description=catalog[key].name, discount=discount)


def make_quote(customer, contact, lines, **fields) -> Quote:
    quote = services.quote_create(
        actor=None, customer_id=customer.pk, contact_id=contact.pk if contact else None, title="Rollout",
        currency="USD", valid_until=timezone.localdate() + timedelta(days=30), payment_terms="Net 30",
    )  # fmt: skip
    for item, data in lines:
        services.quote_line_add(quote=quote, actor=None, product=item, data=data)
    if fields:
        services.quote_update(quote=quote, actor=None, data=fields)
    return Quote.objects.select_related("customer", "contact", "owner").get(pk=quote.pk)


def for_quote(catalog_product):
    """A product as the builder passes it to quote_line_add (with its prices)."""
    from quotes import selectors

    return selectors.product_for_quote(product_id=catalog_product.pk)


@pytest.fixture
def clean(history, catalog, customer, contact) -> Quote:
    lines = [(for_quote(catalog[key]), {}) for key in ("pro", "chat", "onboard")]
    quote = make_quote(customer, contact, lines)
    QuoteLine.objects.filter(quote=quote, product=catalog["pro"]).update(quantity=10)
    return Quote.objects.get(pk=quote.pk)


def codes(scope: copilot.Scope) -> list[str]:
    return [risk.code for risk in scope.risks]


# --- Risks ----------------------------------------------------------------------------------------------------


def test_a_clean_quote_has_no_risk_and_its_scope_says_what_it_holds(clean):
    scope = copilot.quote_scope_analyze(clean, show_margin=True)

    assert scope.risks == []
    assert "3 lines" in scope.summary and "Add-ons, Licences, Services" in scope.summary
    assert "Largest line: Onboarding workshop (1,500.00 USD)" in scope.summary


def test_a_line_that_similar_accepted_quotes_had_is_missing(history, catalog, customer, contact):
    quote = make_quote(customer, contact, [(for_quote(catalog["pro"]), {})])

    (risk,) = [r for r in copilot.quote_scope_analyze(quote).risks if r.code == "missing_line"]

    assert risk.product_id == catalog["chat"].pk
    assert risk.figure.startswith("In 75% of accepted quotes with Pro seat (6 of 8), 1.2× as often")
    assert "confidence of at least 60%" in risk.rule and risk.run_id


def test_a_discount_above_the_workspaces_90th_percentile_is_a_risk(clean, catalog):
    line = QuoteLine.objects.get(quote=clean, product=catalog["chat"])
    services.quote_line_update(line=line, actor=None, data={"discount": "15"})

    (risk,) = copilot.quote_scope_analyze(clean).risks

    assert risk.code == "discount_high" and risk.line_id == line.pk
    assert risk.figure == "15 % against a usual maximum of 10 %."
    assert risk.rule == "Above the 90th percentile of the 22 line discounts in accepted quotes (10 %)."
    services.quote_line_update(line=line, actor=None, data={"discount": "10"})
    assert copilot.quote_scope_analyze(clean).risks == []  # at the usual maximum: no risk


def test_with_little_history_the_discount_rule_falls_back_to_a_stated_maximum():
    limit, rule = copilot.discount_limit([Decimal(0)] * 5)

    assert limit == Decimal(20) and "fewer than 20 accepted lines" in rule and "5" in rule


def test_margin_under_the_threshold_and_a_line_under_cost_only_for_who_sees_margins(clean, catalog):
    line = QuoteLine.objects.get(quote=clean, product=catalog["onboard"])
    services.quote_line_update(line=line, actor=None, data={"unit_price": "500"})  # cost 600

    assert codes(copilot.quote_scope_analyze(clean, show_margin=True)) == ["margin_low", "below_cost"]
    margin, below = copilot.quote_scope_analyze(clean, show_margin=True).risks
    assert margin.message.startswith("The margin is 19.3 %") and "under the 20 % threshold" in margin.message
    assert below.figure == "500.00 USD for a cost of 600.00 USD."
    assert copilot.quote_scope_analyze(clean, show_margin=False).risks == []


def test_validity_too_short_for_a_large_quote_and_for_any_quote(clean):
    services.quote_update(quote=clean, actor=None, data={"valid_until": timezone.localdate() + timedelta(days=10)})
    clean.refresh_from_db()

    (risk,) = copilot.quote_scope_analyze(clean).risks  # total 2,268.00 ≥ 800.00, the 75th percentile

    assert risk.code == "validity_short" and "10 days left, 30 needed" in risk.figure
    assert "75th percentile of 10 accepted USD quotes" in risk.rule and "800.00 USD" in risk.rule
    QuoteLine.objects.filter(quote=clean).exclude(product__sku="SEAT-PRO").delete()
    services.quote_update(quote=clean, actor=None, data={"title": "Small"})  # recomputes the totals: 588.00
    clean.refresh_from_db()
    assert codes(copilot.quote_scope_analyze(clean)) == ["missing_line"]  # 10 days are enough for a small quote
    services.quote_update(quote=clean, actor=None, data={"valid_until": timezone.localdate() + timedelta(days=3)})
    clean.refresh_from_db()
    assert "validity_short" in codes(copilot.quote_scope_analyze(clean))


def test_vague_descriptions_are_a_risk(clean):
    services.quote_line_add(quote=clean, actor=None, data={"description": "Misc services"})
    services.quote_line_add(quote=clean, actor=None, data={"description": "Setup"})
    services.quote_line_add(quote=clean, actor=None, data={"description": "Training day for the admins"})

    risks = copilot.quote_scope_analyze(clean).risks

    assert [r.message.split("”")[0] for r in risks if r.code == "vague"] == ["“Misc services", "“Setup"]


# --- Questions -------------------------------------------------------------------------------------------------


def test_questions_come_from_the_gaps_and_the_leads_history(history, catalog, customer, contact):
    lead = LeadFactory(customer=customer, contact=contact, title="Helpdesk")
    LeadActivityFactory(lead=lead, kind="call", subject="Discovery call", notes="They want a USB headset for "
                        "every agent. Can the rollout start before the summer?")  # fmt: skip
    quote = make_quote(customer, contact, [(for_quote(catalog["pro"]), {})])
    Quote.objects.filter(pk=quote.pk).update(lead_id=lead.pk, payment_terms="")
    quote = Quote.objects.select_related("customer", "contact", "owner").get(pk=quote.pk)

    questions = copilot.quote_clarifying_questions(quote)

    texts = [q.text for q in questions]
    assert "Do you also need Live chat? Most customers with a similar setup include it." in texts
    assert "Which payment terms suit you?" in texts
    assert "You mentioned USB headset: should we add it to the quote?" in texts
    assert "Following up on “Can the rollout start before the summer?”: is this settled for you?" in texts
    assert all(q.run_id and q.because for q in questions)


# --- Upsells and cross-sells ----------------------------------------------------------------------------------


def test_cross_sells_say_why_with_the_rules_figures(history, catalog, customer, contact):
    quote = make_quote(customer, contact, [(for_quote(catalog["pro"]), {})])

    chat, onboard = copilot.quote_cross_sells(quote)

    assert (chat.product_id, chat.source, chat.confidence, chat.lift) == (catalog["chat"].pk, "rules", 0.75, 1.25)
    assert chat.reason.startswith("In 75% of accepted quotes with Pro seat (6 of 8), 1.2× as often")
    assert (onboard.product_id, onboard.source, onboard.reason) == (
        catalog["onboard"].pk, "popular", "In 60% of accepted quotes.",
    )  # fmt: skip
    assert chat.run_id and ai.get_run(chat.run_id).meta.feature == "quote_cross_sell"


def test_upsells_are_a_dearer_tier_of_a_category_on_the_quote(history, catalog, customer, contact):
    quote = make_quote(customer, contact, [(for_quote(catalog["pro"]), {})])

    (upsell,) = copilot.quote_upsells(quote)

    assert upsell.product_id == catalog["ent"].pk and upsell.kind == "upsell"
    assert upsell.reason.startswith("A step up in Licences: 99.00 USD a unit against 49.00 USD for Pro seat.")


def test_the_ranking_functions_work_on_plain_keys_for_the_bench():
    baskets = [("A", "C")] * 4 + [("A",)] * 2 + [("B",)] * 2
    rules = copilot.recommend.association_rules(baskets)
    popular = copilot.recommend.popular_products(baskets)
    category = {"A": "seats", "B": "seats", "C": "add-ons"}

    assert [s.product for s in copilot.rank_cross_sells({"A"}, rules, popular, category)] == ["C"]
    price = {"A": Decimal(10), "B": Decimal(20), "C": Decimal(5)}
    assert [s.product for s in copilot.rank_upsells({"A"}, rules, popular, category, price)] == ["B"]


# --- Summary and email -----------------------------------------------------------------------------------------


def test_offline_summary_and_email_carry_only_the_quotes_numbers(clean):
    facts = copilot.quote_facts(clean)
    figures = "\n".join(copilot_writing.quote_figures(facts).values())

    summary = copilot_writing.quote_executive_summary(clean)
    email = copilot_writing.quote_email_copy(clean)

    assert summary.by == email.by == "template" and summary.run_id and email.run_id
    assert "Total 2,268.00 USD including 128.00 USD tax (2,140.00 USD before tax)." in summary.text
    assert email.subject == f"Your quote {clean.reference}: Rollout" and email.text.startswith("Hi Peter,")
    for text in (summary.text, email.subject, email.text):
        assert copilot_writing.text_problems(text, figures=figures, max_chars=5000) == ()
    assert ai.get_run(summary.run_id).meta.model == "template"


@pytest.fixture
def cloud() -> Iterator[OpenAIFake]:
    with OpenAIFake() as fake:
        ai_services.provider_config_create(
            provider="openai", label="OpenAI", model="gpt-4o-mini", base_url=fake.base_url, api_key=fake.api_key,
            timeout_seconds=2,
        )  # fmt: skip
        yield fake


GOOD_SUMMARY = "Rollout for Initrode: 10 Pro seats, Live chat and an Onboarding workshop, 2,268.00 USD with tax."


def test_with_a_cloud_provider_the_summary_is_generated_from_the_quotes_figures(cloud, clean):
    cloud.enqueue_reply(GOOD_SUMMARY)

    summary = copilot_writing.quote_executive_summary(clean)

    assert (summary.text, summary.by, summary.refused) == (GOOD_SUMMARY, "gpt-4o-mini-2024-07-18", ())
    sent = json.dumps(cloud.requests_to("/chat/completions")[0].body)
    assert "Onboarding workshop" in sent and "2,268.00 USD" in sent


def test_a_generated_text_with_an_invented_number_is_refused_for_the_template(cloud, clean):
    cloud.enqueue_reply(GOOD_SUMMARY + " Sign this week and save 15%.")
    cloud.enqueue_reply(json.dumps({"subject": "Your quote", "body": "Hi Peter, the total is 1,999.00 USD."}))

    summary = copilot_writing.quote_executive_summary(clean)
    email = copilot_writing.quote_email_copy(clean)

    assert summary.by == "template" and summary.text.startswith(clean.reference)
    assert summary.refused == ("It states numbers the quote does not have: 15.",)
    assert email.by == "template" and "1999" in email.refused[0]


# --- The builder's panel and its actions ----------------------------------------------------------------------


def url(name: str, quote: Quote) -> str:
    return reverse(f"quotes:{name}", args=[quote.pk])


def test_the_builder_loads_the_panel_lazily_and_it_shows_everything_with_add(client, login, history, catalog,
                                                                            customer, contact):  # fmt: skip
    login("sales")
    quote = make_quote(customer, contact, [(for_quote(catalog["pro"]), {"discount": "50"})])

    page = client.get(reverse("quotes:quote_detail", args=[quote.pk])).content.decode()
    assert 'data-testid="copilot-open"' in page and 'data-testid="copilot-panel"' not in page

    html = client.get(url("copilot_panel", quote), **HTMX).content.decode()
    assert 'data-testid="copilot-panel"' in html
    for code in ("missing_line", "discount_high", "margin_low", "below_cost"):
        assert f'data-code="{code}"' in html
    assert "In 75% of accepted quotes with Pro seat (6 of 8)" in html
    assert 'data-testid="copilot-add"' in html and 'data-testid="copilot-use"' in html


def test_who_may_only_view_sees_no_margin_risk_and_no_action(client, login, history, catalog, customer, contact):
    quote = make_quote(customer, contact, [(for_quote(catalog["pro"]), {"discount": "50"})])
    login("viewer")

    html = client.get(url("copilot_panel", quote), **HTMX).content.decode()

    assert 'data-code="discount_high"' in html and "margin_low" not in html and "below_cost" not in html
    assert 'data-testid="copilot-add"' not in html and 'data-testid="copilot-dismiss"' not in html
    assert client.post(url("copilot_add", quote), {"product": catalog["chat"].pk}).status_code == 403


def test_add_puts_the_suggested_product_on_the_quote_and_records_it_as_accepted(client, login, history, catalog,
                                                                                customer, contact):  # fmt: skip
    user = login("sales")
    quote = make_quote(customer, contact, [(for_quote(catalog["pro"]), {})])
    suggestion = copilot.quote_cross_sells(quote, user=user)[0]

    response = client.post(
        url("copilot_add", quote), {"product": suggestion.product_id, "run_id": suggestion.run_id,
                                    "version": quote.version}, **HTMX,
    )  # fmt: skip

    html = response.content.decode()
    assert response.status_code == 200 and "Live chat" in html and "Added to the quote." in html
    assert QuoteLine.objects.filter(quote=quote, product=catalog["chat"], unit_price=Decimal(150)).exists()
    (feedback,) = ai.get_feedback(suggestion.run_id)
    assert (feedback.outcome, feedback.user_id) == ("accepted", user.pk)


def test_add_with_an_old_version_changes_nothing_and_records_nothing(client, login, history, catalog, customer,
                                                                     contact):  # fmt: skip
    user = login("sales")
    quote = make_quote(customer, contact, [(for_quote(catalog["pro"]), {})])
    suggestion = copilot.quote_cross_sells(quote, user=user)[0]

    stale = {"product": suggestion.product_id, "run_id": suggestion.run_id, "version": quote.version - 1}
    response = client.post(url("copilot_add", quote), stale)

    assert response.status_code == 409 and ai.get_feedback(suggestion.run_id) == ()
    assert not QuoteLine.objects.filter(quote=quote, product=catalog["chat"]).exists()


def test_dismiss_records_rejected_and_a_run_of_another_quote_is_refused(client, login, clean, history, catalog,
                                                                        customer, contact):  # fmt: skip
    user = login("sales")
    other = make_quote(customer, contact, [(for_quote(catalog["pro"]), {})])
    question = copilot.quote_clarifying_questions(other, user=user)[0]

    response = client.post(url("copilot_feedback", other), {"run_id": question.run_id, "outcome": "rejected"}, **HTMX)
    assert "Dismissed." in response.content.decode()
    assert ai.get_feedback(question.run_id)[0].outcome == "rejected"

    client.post(url("copilot_feedback", clean), {"run_id": question.run_id, "outcome": "accepted"}, **HTMX)
    assert [f.outcome for f in ai.get_feedback(question.run_id)] == ["rejected"]


def test_use_puts_the_summary_into_the_notes_with_edited_feedback_when_changed(client, login, clean):
    login("sales")
    summary = copilot_writing.quote_executive_summary(clean)

    client.post(url("copilot_use", clean), {"run_id": summary.run_id, "text": summary.text, "version": clean.version})
    clean.refresh_from_db()
    assert clean.notes == summary.text and ai.get_feedback(summary.run_id)[0].outcome == "accepted"

    client.post(url("copilot_use", clean), {"run_id": summary.run_id, "text": "Shorter.", "version": clean.version})
    clean.refresh_from_db()
    assert clean.notes == "Shorter." and ai.get_feedback(summary.run_id)[0].outcome == "edited"


def test_the_api_returns_the_analysis(client, login, clean):
    login("sales")

    data = client.get(reverse("quotes_api:quote_copilot", args=[clean.pk])).json()

    assert data["scope"]["risks"] == [] and data["summary"]["by"] == "template"
    assert set(data) == {"scope", "questions", "upsells", "cross_sells", "summary", "email"}
    assert all(item["run_id"] for item in data["upsells"] + data["cross_sells"])


def test_reading_the_facts_takes_the_same_queries_whatever_the_history(clean, catalog, customer):
    with CaptureQueriesContext(connection) as few:
        copilot.quote_facts(clean)
    for _ in range(5):
        accepted = QuoteFactory(customer=customer, status=QuoteStatus.ACCEPTED, accepted_at=timezone.now())
        QuoteLineFactory(quote=accepted, product=catalog["headset"])
    with CaptureQueriesContext(connection) as many:
        copilot.quote_facts(clean)
    assert len(many) == len(few)
