"""Lead pages and fragments: the board, load more, moves (with the lost-reason modal), detail, forms, list, roles."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leads import services
from leads.models import Lead, LeadActivity

from .factories import LeadFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, *args) -> str:
    return reverse(f"leads:{name}", args=args)


def test_board_shows_columns_cards_summaries_and_follows_the_pipeline_topic(client, login, pipeline, stages):
    login("sales")
    services.lead_create(actor=None, title="Big deal", value=5000)

    response = client.get(url("lead_board"))

    html = response.content.decode()
    assert response.status_code == 200
    for name in stages:
        assert f">{name} <" in html
    assert "Big deal" in html and 'id="stage-summary-' in html
    assert 'data-can-edit="true"' in html and "Sortable.min.js" in html
    assert "?topic=" in html  # the socket follows the board's topic
    assert 'data-testid="nav-leads"' in html


def test_agents_see_the_board_read_only_without_the_nav_entry(client, login, pipeline):
    login("agent")
    services.lead_create(actor=None, title="Deal")

    html = client.get(url("lead_board")).content.decode()

    assert 'data-can-edit="false"' in html and 'data-testid="lead-new"' not in html
    assert 'data-testid="nav-leads"' not in html
    lead = Lead.objects.get()
    assert client.post(url("lead_move", lead.pk), {"stage": lead.stage_id}).status_code == 403


def test_load_more_returns_the_next_cards_and_the_next_button(client, login, pipeline, stages):
    login("agent")
    for index in range(30):
        LeadFactory(title=f"Lead {index:02d}", stage=stages["Prospect"], position=index)
    board = client.get(url("lead_board")).content.decode()
    assert "Lead 19" in board and "Lead 20" not in board and 'data-testid="lead-column-more"' in board

    response = client.get(url("stage_cards", stages["Prospect"].pk), **HTMX)
    html = response.content.decode()
    assert "Lead 00" in html and f'hx-swap-oob="beforeend:#stage-cards-{stages["Prospect"].pk}"' in html


def test_move_by_htmx_returns_the_placed_card_and_both_headers(client, login, stages):
    login("sales")
    lead = services.lead_create(actor=None, title="Deal")

    response = client.post(url("lead_move", lead.pk), {"stage": stages["Proposal"].pk, "position": 0}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "modal:close"
    assert f'id="lead-card-{lead.pk}" hx-swap-oob="delete"' in html
    assert f"afterbegin:#stage-cards-{stages['Proposal'].pk}" in html
    assert f'id="stage-summary-{stages["Prospect"].pk}"' in html
    assert f'id="stage-summary-{stages["Proposal"].pk}"' in html
    lead.refresh_from_db()
    assert lead.stage == stages["Proposal"]


def test_drop_on_lost_without_reason_opens_the_modal_asking_why(client, login, stages):
    login("sales")
    lead = services.lead_create(actor=None, title="Deal")

    response = client.post(url("lead_move", lead.pk), {"stage": stages["Lost"].pk, "position": 0}, **HTMX)

    html = response.content.decode()
    assert response["HX-Retarget"] == "#modal-body"
    assert "Say why the lead was lost" in html and 'name="lost_reason"' in html
    lead.refresh_from_db()
    assert lead.stage == stages["Prospect"]

    response = client.post(
        url("lead_move", lead.pk), {"stage": stages["Lost"].pk, "position": 0, "lost_reason": "Budget"}, **HTMX
    )
    assert response["HX-Trigger"] == "modal:close"
    lead.refresh_from_db()
    assert lead.stage == stages["Lost"] and lead.lost_reason == "Budget"


def test_move_modal_prefills_the_dropped_stage(client, login, stages):
    login("sales")
    lead = services.lead_create(actor=None, title="Deal")
    html = client.get(url("lead_move", lead.pk), {"stage": stages["Lost"].pk, "position": 3}, **HTMX).content.decode()
    assert f'<option value="{stages["Lost"].pk}" selected>' in html and 'value="3"' in html


def test_detail_shows_fields_history_and_activities_and_activities_can_be_added_and_completed(client, login, stages):
    login("sales")
    lead = services.lead_create(actor=None, title="Deal")
    services.lead_move(lead=lead, stage=stages["Qualified"], position=0, actor=None)

    html = client.get(url("lead_detail", lead.pk)).content.decode()
    assert "Deal" in html and "Prospect → <strong>Qualified</strong>" in html

    response = client.post(url("activity_create", lead.pk), {"kind": "call", "subject": "Intro call"}, **HTMX)
    assert response.status_code == 200 and "Intro call" in response.content.decode()
    activity = LeadActivity.objects.get()

    response = client.post(url("activity_complete", activity.pk), {"done": "1"}, **HTMX)
    assert "<s>Intro call</s>" in response.content.decode()


def test_create_form_adds_a_lead_and_edit_form_changes_it(client, login, pipeline, stages):
    user = login("sales")
    response = client.get(url("lead_create"), **HTMX)
    assert 'for="id_title"' in response.content.decode()

    response = client.post(
        url("lead_create"), {"title": "New deal", "value": "1200", "currency": "usd", "source": "referral"}
    )
    lead = Lead.objects.get()
    assert response.status_code == 302 and lead.title == "New deal" and lead.stage == stages["Prospect"]

    data = {"title": "Renamed", "value": "1500", "currency": "USD", "source": "referral", "owner": user.pk}
    response = client.post(url("lead_update", lead.pk), data)
    lead.refresh_from_db()
    assert response.status_code == 302 and lead.title == "Renamed" and lead.owner == user


def test_the_lead_form_searches_companies_instead_of_listing_them_and_shows_the_chosen_one(
    client, login, pipeline, django_assert_max_num_queries
):
    from customers.tests.factories import ContactFactory, CustomerFactory

    login("sales")
    CustomerFactory.create_batch(30)
    acme = CustomerFactory(name="Acme Rockets")
    jane = ContactFactory(customer=acme, name="Jane Roe")

    with django_assert_max_num_queries(20):
        html = client.get(url("lead_create"), **HTMX).content.decode()

    assert "<option" not in html.split('id="id_customer"', 1)[1].split("</div>", 1)[0]  # no list of companies
    assert 'role="combobox"' in html and reverse("customers:customer_lookup") in html
    assert 'hx-include="#id_customer_value"' in html and 'data-lookup-depends="customer"' in html
    lead = services.lead_create(actor=None, title="Rockets", customer=acme, contact=jane)
    edit = client.get(url("lead_update", lead.pk), **HTMX).content.decode()
    assert 'value="Acme Rockets"' in edit and f'name="customer" value="{acme.pk}"' in edit
    assert 'value="Jane Roe"' in edit


def test_a_form_sent_from_a_modal_sends_the_browser_to_the_leads_page(client, login, pipeline):
    login("sales")

    data = {"title": "Deal", "value": "1", "currency": "USD", "source": "referral"}
    response = client.post(url("lead_create"), data, **HTMX)
    lead = Lead.objects.get()
    edited = client.post(url("lead_update", lead.pk), data | {"title": "Deal 2"}, **HTMX)

    assert response.status_code == 200 and response["HX-Redirect"] == url("lead_detail", lead.pk)
    assert edited["HX-Redirect"] == url("lead_detail", lead.pk)


def test_create_form_shows_errors_inline(client, login, pipeline):
    login("sales")
    response = client.post(url("lead_create"), {"title": "", "value": "x", "currency": "USD"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'aria-invalid="true"' in html and not Lead.objects.exists()


def test_list_filters_and_fragment(client, login, stages):
    login("viewer")
    LeadFactory(title="Alpha deal", stage=stages["Prospect"], source="referral")
    LeadFactory(title="Beta deal", stage=stages["Won"], source="website")

    html = client.get(url("lead_list")).content.decode()
    assert "Alpha deal" in html and "Beta deal" in html and html.count("<h1") == 1

    response = client.get(url("lead_list"), {"source": "referral"}, **HTMX, HTTP_HX_TARGET="lead-table")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lead-table"') and "Alpha deal" in html and "Beta deal" not in html


def test_list_costs_the_same_queries_for_more_leads(client, login, stages, django_assert_max_num_queries):
    login("viewer")
    LeadFactory.create_batch(3, stage=stages["Prospect"])
    with django_assert_max_num_queries(12) as few:
        client.get(url("lead_list"))
    LeadFactory.create_batch(20, stage=stages["Qualified"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("lead_list"))


# --- The company page's "Open leads" panel ------------------------------------------------------


def test_agents_see_the_company_open_leads_read_only_on_its_page(client, login, stages):
    from customers.tests.factories import CustomerFactory

    login("agent")
    customer = CustomerFactory()
    services.lead_create(actor=None, title="Big deal", customer=customer, value=5000, stage=stages["Proposal"])
    won = services.lead_create(actor=None, title="Done deal", customer=customer)
    services.lead_move(lead=won, stage=stages["Won"], position=0, actor=None)
    services.lead_create(actor=None, title="Someone else's", customer=CustomerFactory())

    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    panel = html.split('data-testid="customer-leads"', 1)[1].split("</section>", 1)[0]

    assert "Big deal" in panel and "Proposal" in panel and "5,000 USD" in panel
    assert "Done deal" not in panel and "Someone else" not in panel
    assert 'data-testid="customer-new-lead"' not in panel


def test_sales_users_get_a_new_lead_button_prefilled_with_the_company(client, login, pipeline):
    from customers.tests.factories import CustomerFactory

    login("sales")
    customer = CustomerFactory(name="Prefilled Co")

    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert f'href="{reverse("leads:lead_create")}?customer={customer.pk}"' in html
    assert 'data-testid="customer-leads-empty"' in html

    form = client.get(reverse("leads:lead_create"), {"customer": customer.pk}).context["form"]
    assert str(form["customer"].value()) == str(customer.pk)


# --- "Create lead from ticket" ------------------------------------------------------------------


def test_the_ticket_page_offers_a_lead_prefilled_from_the_ticket_to_sales_only(client, login, pipeline):
    from helpdesk.tests.factories import TicketFactory

    ticket = TicketFactory(subject="Pricing for 40 seats?")
    login("agent")
    assert (
        'data-testid="lead-from-ticket"'
        not in client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    )

    login("sales")
    html = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert 'data-testid="lead-from-ticket"' in html
    link = (
        html.split('data-testid="lead-from-ticket"', 1)[1].split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    )

    form = client.get(link).context["form"]

    assert str(form["customer"].value()) == str(ticket.customer_id)
    assert str(form["contact"].value()) == str(ticket.requester_id)
    assert form["title"].value() == "Pricing for 40 seats?"
    assert form["source"].value() == "support" and form["source_ref"].value() == str(ticket.pk)


def test_a_lead_created_from_a_ticket_records_its_source_and_ticket_id(client, login, pipeline):
    from helpdesk.tests.factories import TicketFactory

    ticket = TicketFactory(subject="Upgrade")
    login("sales")
    data = {
        "title": "Upgrade", "customer": ticket.customer_id, "contact": ticket.requester_id, "source": "support",
        "source_ref": str(ticket.pk), "value": "100", "currency": "USD",
    }  # fmt: skip

    response = client.post(url("lead_create"), data)

    lead = Lead.objects.get(title="Upgrade")
    assert response.status_code == 302, response.content
    assert (lead.source, lead.source_ref, lead.customer_id, lead.contact_id) == (
        "support", str(ticket.pk), ticket.customer_id, ticket.requester_id,
    )  # fmt: skip
