"""Events from every app reach the rules through their contracts, after commit: the helpdesk's SLA warning, a lead's
stage change, a quote's status, a company's health drop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from automation.models import RuleRun
from automation.tests.factories import RuleFactory
from customers import health
from customers.tests.factories import CustomerFactory
from helpdesk.models import Ticket
from helpdesk.services import sla
from helpdesk.tests.factories import BusinessCalendarFactory, SLAPolicyFactory, TicketFactory
from leads import services as lead_services
from leads.tests.factories import LeadFactory, StageFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)


def rule(**fields):
    from automation.compiled import rules_changed

    created = RuleFactory(**fields)
    rules_changed()
    return created


def test_the_sla_warning_triggers_rules(django_capture_on_commit_callbacks):
    SLAPolicyFactory(
        name="Standard",
        calendar=BusinessCalendarFactory(always_open=True),
        first_response_minutes=60,
        next_response_minutes=None,
        resolution_minutes=480,
    )
    ticket = TicketFactory(created=T0, last_customer_message_at=T0, status=Ticket.Status.OPEN)
    sla.ticket_sla_refresh(ticket, now=T0)
    warned = rule(trigger="sla.warning", conditions={"all": []}, actions=[{"type": "add_tags", "value": ["sla-warn"]}])

    with django_capture_on_commit_callbacks(execute=True):
        sla.sla_sweep(now=T0 + timedelta(minutes=50))

    run = RuleRun.objects.get(rule=warned)
    assert (run.event, run.object_id) == ("sla.warning", ticket.pk)
    ticket.refresh_from_db()
    assert "sla-warn" in ticket.tags


def test_a_lead_stage_change_triggers_rules(make_user, django_capture_on_commit_callbacks):
    lead = LeadFactory()
    won = StageFactory(pipeline=lead.stage.pipeline, kind="open", probability=80)
    moved = rule(
        trigger="lead.stage_changed",
        conditions={"all": [{"field": "probability", "op": "gt", "value": "50"}]},
        actions=[
            {
                "type": "send_email",
                "value": {"to": "sales-lead@alpha.test", "subject": "{{ lead.title }}", "body": "Moved."},
            }
        ],
    )

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.lead_move(lead=lead, stage=won, position=0, actor=make_user("sales"))

    run = RuleRun.objects.get(rule=moved)
    assert run.error == ""
    assert run.changes[0]["detail"] == f"Emailed sales-lead@alpha.test: {lead.title}"


def test_a_health_drop_triggers_rules(django_capture_on_commit_callbacks):
    company = CustomerFactory()
    type(company).objects.filter(pk=company.pk).update(health_score=90, health_band="healthy")
    dropped = rule(
        trigger="customer.health_dropped",
        conditions={"all": []},
        actions=[
            {
                "type": "send_email",
                "value": {"to": "owner@alpha.test", "subject": "{{ customer.name }}", "body": "Health fell."},
            }
        ],
    )
    result = health.Health(customer_id=company.pk, score=50, band="at_risk", drivers=())

    with django_capture_on_commit_callbacks(execute=True):
        health._customers_update([result], ["[]"], T0)

    assert RuleRun.objects.get(rule=dropped).object_id == company.pk


def test_a_quote_sent_then_declined_triggers_each_rule_once_and_notifies_its_owner(
    make_user, django_capture_on_commit_callbacks
):
    from notifications.models import Notification
    from quotes import services as quote_services
    from quotes.tests.factories import QuoteFactory, QuoteLineFactory

    seller = make_user("sales", name="Sam Seller")
    quote = QuoteFactory(owner=seller, title="Robot arms")
    QuoteLineFactory(quote=quote)
    tell_owner = [{"type": "notify_people", "value": {"people": ["owner"], "message": "{{ quote.title }}: declined"}}]
    email = {"to": "deals@alpha.test", "subject": "Sent: {{ quote.title }}", "body": "Follow up in a week."}
    sent = rule(trigger="quote.sent", conditions={"all": []}, actions=[{"type": "send_email", "value": email}])
    declined = rule(trigger="quote.declined", conditions={"all": []}, actions=tell_owner)

    with django_capture_on_commit_callbacks(execute=True):
        quote = quote_services.quote_status_set(quote=quote, status="sent", actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        quote_services.quote_status_set(quote=quote, status="declined", actor=None, reason="Too dear")

    assert list(RuleRun.objects.filter(rule=sent).values_list("event", "object_id")) == [("quote.sent", quote.pk)]
    assert RuleRun.objects.get(rule=sent).changes[0]["detail"] == "Emailed deals@alpha.test: Sent: Robot arms"
    assert RuleRun.objects.get(rule=declined).event == "quote.declined"
    notice = Notification.objects.get(user=seller, event="automation.notice")
    assert (notice.body, notice.link) == ("Robot arms: declined", f"/quotes/{quote.pk}/")
