"""Improve description never makes a ticket worse: "nothing to improve" offers no Accept and the accept endpoint
refuses it, and no accepted description ever holds a placeholder such as "(not stated in the ticket)"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ai import facade
from helpdesk.models import Ticket
from helpdesk.services import ticket_ai
from helpdesk.services.ticket_ai import composer

from .factories import TicketFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
ONE_STATEMENT = "hi the printer on the 3rd floor keeps jamming"
IMPROVABLE = "hello my outlook keeps crashing when i open attachments it should just open the pdf"
DATA = Path(__file__).resolve().parents[2] / "ai" / "tests" / "data" / "greeting_first_tickets.json"


def improve(client, ticket):
    response = client.post(f"/tickets/{ticket.pk}/ai/improve/", **HX)
    assert response.status_code == 200
    return response.content.decode()


def test_a_single_statement_says_nothing_to_improve_and_offers_no_accept(login, client):
    login("agent")
    ticket = TicketFactory(original_description=ONE_STATEMENT)

    html = improve(client, ticket)

    assert 'data-testid="ai-improve-nothing"' in html and "Nothing to improve." in html
    assert "single statement" in html
    assert 'data-testid="ai-improve-accept"' not in html and 'name="text"' not in html
    assert "(not stated in the ticket)" not in html


def test_the_accept_endpoint_refuses_a_result_with_nothing_to_improve(login, client, make_user):
    login("agent")
    ticket = TicketFactory(original_description=ONE_STATEMENT)
    suggestion = ticket_ai.description_improve(text=ONE_STATEMENT, actor=make_user("agent"))
    assert suggestion.nothing_to_improve
    form = {"run_id": suggestion.meta.run_id, "text": suggestion.text, "version": ticket.version}

    plain = client.post(f"/tickets/{ticket.pk}/ai/improve/accept/", form)
    in_modal = client.post(f"/tickets/{ticket.pk}/ai/improve/accept/", form, **HX)

    assert plain.status_code == 422 and b"Nothing to improve" in plain.content
    assert in_modal.status_code == 200 and b"Nothing to improve" in in_modal.content  # htmx swaps only 2xx
    ticket.refresh_from_db()
    assert ticket.improved_description == "" and ticket.description == ONE_STATEMENT
    assert facade.get_feedback(suggestion.meta.run_id) == ()


def test_an_edit_that_keeps_a_placeholder_is_refused(login, client):
    login("agent")
    ticket = TicketFactory(original_description=IMPROVABLE)
    html = improve(client, ticket)
    run_id = re.search(r'name="run_id" value="(\d+)"', html).group(1)
    edited = facade.get_run(int(run_id)).text + "\n\nEnvironment\n(not stated in the ticket)"

    response = client.post(f"/tickets/{ticket.pk}/ai/improve/accept/", {"run_id": run_id, "text": edited})

    assert response.status_code == 422 and "Remove “(not stated in the ticket)”" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.improved_description == ""


def test_an_improvable_greeting_first_ticket_is_accepted_without_the_greeting_or_placeholders(login, client):
    login("agent")
    ticket = TicketFactory(original_description=IMPROVABLE)
    html = improve(client, ticket)
    run_id = re.search(r'name="run_id" value="(\d+)"', html).group(1)
    shown = facade.get_run(int(run_id)).text

    response = client.post(
        f"/tickets/{ticket.pk}/ai/improve/accept/", {"run_id": run_id, "text": shown, "version": 1}, **HX
    )

    assert response.status_code == 200 and "modal:close" in response["HX-Trigger"]
    ticket.refresh_from_db()
    assert ticket.improved_description == (
        "Summary\nmy outlook keeps crashing when i open attachments\n\n"
        "Expected\nit should just open the pdf\n\n"
        "Actual\nmy outlook keeps crashing when i open attachments"
    )


def test_no_accepted_description_ever_holds_a_placeholder(make_user):
    agent = make_user("agent")
    cases = json.loads(DATA.read_text())
    accepted = 0
    for case in cases["short"] + cases["long"]:
        ticket = TicketFactory(original_description=case["text"])
        suggestion = ticket_ai.description_improve(text=case["text"], actor=agent)
        if suggestion.nothing_to_improve:
            with pytest.raises(composer.NothingToImprove):
                ticket_ai.improved_description_accept(
                    ticket=ticket, actor=agent, run_id=suggestion.meta.run_id, text=suggestion.text
                )
            continue
        ticket, outcome = ticket_ai.improved_description_accept(
            ticket=ticket, actor=agent, run_id=suggestion.meta.run_id, text=suggestion.text
        )
        accepted += 1
        assert outcome == "accepted"
        assert "not stated" not in ticket.improved_description.lower()
    assert accepted >= 20
    assert not Ticket.objects.filter(improved_description__icontains="not stated in the ticket").exists()


def test_the_new_ticket_form_says_nothing_to_improve_without_a_use_button(login, client):
    login("agent")

    response = client.post(
        "/tickets/ai/improve/", {"description": "good morning team", "field_id": "id_description"}, **HX
    )

    html = response.content.decode()
    assert 'data-testid="ai-draft-nothing-to-improve"' in html and "Nothing to improve." in html
    assert "data-ai-replace" not in html
