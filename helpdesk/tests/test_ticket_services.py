"""Ticket writes: validation, requesters by email, versions (no lost update), history, messages, merge."""

from __future__ import annotations

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import Contact
from customers.tests.factories import ContactFactory, CustomerFactory
from helpdesk.models import Ticket, TicketEvent, TicketMessage
from helpdesk.services import tickets as services
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def create(**overrides):
    values = {"subject": "Printer jams", "description": "Paper jams on page two.", "requester_email": "a@b.test"}
    return services.ticket_create(**(values | overrides))


def test_empty_subject_and_body_are_refused_with_both_messages():
    with pytest.raises(ValidationError) as error:
        create(subject="  ", description="")

    assert error.value.message_dict == {
        "subject": ["The subject cannot be empty."],
        "description": ["The description cannot be empty."],
    }
    assert not Ticket.objects.exists()


def test_unknown_requester_email_becomes_a_contact_of_the_matching_customer():
    customer = CustomerFactory(domain="globex.test")

    ticket = create(requester_email="Hank@Globex.test", requester_name="Hank Scorpio")

    assert ticket.requester.email == "hank@globex.test" and ticket.requester.name == "Hank Scorpio"
    assert ticket.customer == customer == ticket.requester.customer
    assert ticket.status == Ticket.Status.NEW
    assert list(ticket.events.values_list("kind", flat=True)) == [TicketEvent.Kind.CREATED]


def test_a_known_address_reuses_its_contact():
    contact = ContactFactory(email="known@x.test")

    assert create(requester_email="KNOWN@x.test").requester == contact
    assert Contact.objects.filter(email__iexact="known@x.test").count() == 1


def test_invalid_email_is_a_field_error():
    with pytest.raises(ValidationError) as error:
        create(requester_email="not-an-address")
    assert "requester_email" in error.value.message_dict


def test_forbidden_and_oversized_attachments_are_refused_and_nothing_is_saved(settings):
    settings.HELPDESK_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError, match=r"setup.exe: \.exe files are not accepted"):
        create(attachments=[SimpleUploadedFile("setup.exe", b"MZ")])
    with pytest.raises(ValidationError, match="the limit is 10"):
        create(attachments=[SimpleUploadedFile("log.txt", b"x" * 11)])
    assert not Ticket.objects.exists()


def test_an_edit_based_on_an_old_version_is_refused_and_loses_nothing(make_user):
    agent = make_user()
    ticket = TicketFactory()
    seen_by_both = ticket.version
    services.ticket_update(ticket=ticket, actor=agent, data={"subject": "First edit"}, expected_version=seen_by_both)

    with pytest.raises(services.StaleTicket):
        services.ticket_update(
            ticket=Ticket.objects.get(pk=ticket.pk),
            actor=agent,
            data={"subject": "Second"},
            expected_version=seen_by_both,
        )

    ticket.refresh_from_db()
    assert ticket.subject == "First edit" and ticket.version == seen_by_both + 1
    (event,) = ticket.events.filter(kind=TicketEvent.Kind.UPDATED)
    assert event.data["changes"]["subject"][1] == "First edit"


def test_first_public_reply_sets_first_response_and_opens_the_ticket(make_user):
    agent = make_user()
    ticket = TicketFactory()

    services.message_add(ticket=ticket, actor=agent, body="Internal", kind=TicketMessage.Kind.NOTE)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None and ticket.status == Ticket.Status.NEW

    services.message_add(ticket=ticket, actor=agent, body="On it!", status=Ticket.Status.PENDING)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None and ticket.status == Ticket.Status.PENDING


def test_customer_reply_reopens_a_pending_or_solved_ticket():
    ticket = TicketFactory(status=Ticket.Status.SOLVED)

    services.customer_message_add(ticket=ticket, body="Still broken.")

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.solved_at is None
    assert ticket.events.filter(kind=TicketEvent.Kind.REOPENED).exists()


def test_search_vector_covers_subject_description_and_messages(make_user):
    ticket = TicketFactory(subject="Invoice address wrong", original_description="The VAT number is missing.")
    TicketFactory(subject="Unrelated")
    services.message_add(ticket=ticket, actor=make_user(), body="Forwarded to accounting department.")

    def found(words: str) -> list[int]:
        return list(
            Ticket.objects.filter(search_vector=SearchQuery(words, config="english")).values_list("pk", flat=True)
        )

    assert found("invoices") == [ticket.pk]  # stemmed
    assert found("VAT") == [ticket.pk]
    assert found("accounting") == [ticket.pk]


def test_merge_moves_messages_and_closes_the_sources(make_user):
    agent = make_user()
    target, source = TicketFactory(), TicketFactory()
    services.message_add(ticket=source, actor=agent, body="Reply on the duplicate")

    services.tickets_merge(target=target, sources=[source], actor=agent)

    source.refresh_from_db()
    assert source.status == Ticket.Status.CLOSED and source.merged_into == target
    assert target.messages.filter(body="Reply on the duplicate").exists()
    with pytest.raises(ValidationError, match="merged into"):
        services.ticket_status_set(ticket=source, status=Ticket.Status.OPEN, actor=agent)


def test_bulk_update_is_all_or_nothing(make_user):
    agent, gone = make_user(), make_user(is_active=False)
    first, second = TicketFactory(), TicketFactory()

    with pytest.raises(ValidationError):
        services.tickets_bulk_update(tickets=[first, second], actor=agent, status="solved", assignee=gone)

    assert set(Ticket.objects.values_list("status", flat=True)) == {Ticket.Status.NEW}
