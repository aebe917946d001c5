"""The ticket REST API: list with filters and cursors, create, read, edit with versions (409 when stale),
status and assignment actions, messages with attachments, permissions per role and workspace isolation."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from customers.models import Contact
from customers.tests.factories import ContactFactory, CustomerFactory
from helpdesk.models import Ticket, TicketEvent, TicketMessage
from helpdesk.services import tickets as services
from helpdesk.tests.factories import (
    AgentProfileFactory,
    CategoryFactory,
    SLAPolicyFactory,
    TeamFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db

TICKETS = reverse("helpdesk_api:ticket_list")


def ticket_url(ticket_id: int, action: str = "") -> str:
    names = {
        "": "ticket_detail",
        "status": "ticket_status",
        "assignment": "ticket_assignment",
        "messages": "message_list",
    }
    return reverse(f"helpdesk_api:{names[action]}", args=[ticket_id])


def post(client, path: str, data: dict):
    return client.post(path, data, content_type="application/json")


def patch(client, path: str, data: dict):
    return client.patch(path, data, content_type="application/json")


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


# --- List ---------------------------------------------------------------------------------------


def test_list_filters_by_status_priority_assignee_team_tag_and_customer(client, login, make_user):
    me = login("agent")
    colleague = make_user("agent")
    team = TeamFactory()
    acme = CustomerFactory(name="Acme")
    mine = TicketFactory(status="open", priority="urgent", assignee=me, team=team, tags=["vip"])
    theirs = TicketFactory(status="open", priority="low", assignee=colleague)
    unassigned = TicketFactory(status="new", requester=ContactFactory(customer=acme))
    solved = TicketFactory(status="solved", assignee=me)

    assert set(ids(client.get(TICKETS))) == {mine.pk, theirs.pk, unassigned.pk, solved.pk}
    assert ids(client.get(TICKETS, {"assignee": "me", "status": "unsolved"})) == [mine.pk]
    assert ids(client.get(TICKETS, {"assignee": "none"})) == [unassigned.pk]
    assert ids(client.get(TICKETS, {"assignee": colleague.pk})) == [theirs.pk]
    assert ids(client.get(TICKETS, {"priority": "urgent"})) == [mine.pk]
    assert ids(client.get(TICKETS, {"team": team.pk})) == [mine.pk]
    assert ids(client.get(TICKETS, {"tag": "VIP"})) == [mine.pk]
    assert ids(client.get(TICKETS, {"customer": acme.pk})) == [unassigned.pk]
    assert ids(client.get(TICKETS, {"status": "done"})) == [solved.pk]


def test_list_searches_subject_description_and_messages(client, login):
    login("viewer")
    printer = TicketFactory(subject="Printer jams on every page", original_description="Paper stuck.")
    invoice = TicketFactory(subject="Invoice question", original_description="The VAT number is wrong.")
    TicketMessageFactory(ticket=invoice, body="We reprinted the invoice with the corrected address.")
    TicketFactory(subject="Password reset", original_description="No email arrives.")

    assert ids(client.get(TICKETS, {"q": "printing"})) == [printer.pk]  # stemmed
    assert ids(client.get(TICKETS, {"q": "corrected addr"})) == [invoice.pk]  # message text, prefix as typed
    assert ids(client.get(TICKETS, {"q": f"#{printer.pk}"})) == [printer.pk]
    assert ids(client.get(TICKETS, {"q": "nothing like this"})) == []


def test_list_pages_with_cursors_without_gaps_on_ties(client, login):
    login("viewer")
    tickets = [TicketFactory(priority="high" if index < 5 else "low") for index in range(7)]

    seen, url = [], f"{TICKETS}?sort=-priority&page_size=2"
    while url:
        body = client.get(url).json()
        assert set(body) == {"next", "previous", "count", "count_capped", "results"}
        assert (body["count"], body["count_capped"]) == (7, False)
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert sorted(seen) == sorted(ticket.pk for ticket in tickets) and len(seen) == len(set(seen))
    assert [row["priority"] for row in client.get(TICKETS, {"sort": "-priority"}).json()["results"]][:5] == ["high"] * 5


def test_list_previous_link_goes_back(client, login):
    login("viewer")
    for _ in range(5):
        TicketFactory()

    first = client.get(TICKETS, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()

    assert [row["id"] for row in back["results"]] == [row["id"] for row in first["results"]]
    assert first["previous"] is None


def test_list_rejects_invalid_filters_with_field_errors(client, login):
    login("viewer")

    response = client.get(TICKETS, {"status": "sleeping", "assignee": "someone", "priority": "asap"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"status", "assignee", "priority"}
    assert "“me” or “none”" in error["fields"]["assignee"][0]


def test_list_query_count_is_constant_in_page_size(client, login):
    agent = login("viewer")
    team, category = TeamFactory(), CategoryFactory()
    for _ in range(20):
        TicketFactory(assignee=agent, team=team, category=category, tags=["x"])
    client.get(TICKETS)  # warms the host → workspace cache

    # search_path, session, user; the page's ids, its rows, the capped count; category and team names.
    with CaptureQueriesContext(connection) as small_queries:
        small = client.get(TICKETS, {"page_size": 5})
    with CaptureQueriesContext(connection) as large_queries:
        large = client.get(TICKETS, {"page_size": 20})

    print("SMALL", *[q["sql"][:200] for q in small_queries.captured_queries], sep="\n")
    print("LARGE", *[q["sql"][:200] for q in large_queries.captured_queries], sep="\n")
    assert len(small_queries) == len(large_queries) <= 8

    assert len(small.json()["results"]) == 5 and len(large.json()["results"]) == 20
    row = large.json()["results"][0]
    assert row["team"]["id"] == team.pk and row["category"]["name"] == category.name
    assert row["assignee"]["id"] == agent.pk and "description" not in row


# --- Create -------------------------------------------------------------------------------------


def test_create_ticket_for_an_unknown_email_makes_the_contact(client, login):
    login("agent")
    category = CategoryFactory()

    response = post(
        client,
        TICKETS,
        {
            "subject": "Printer jams",
            "description": "Paper jams on page two.",
            "requester_email": "Hank@Globex.test",
            "requester_name": "Hank Scorpio",
            "priority": "high",
            "category_id": category.pk,
            "tags": ["Hardware", "floor 2"],
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert body["number"] == ticket.pk and body["version"] == ticket.version
    assert (body["subject"], body["description"], body["priority"], body["channel"]) == (
        "Printer jams",
        "Paper jams on page two.",
        "high",
        "api",
    )
    assert body["tags"] == ["hardware", "floor-2"] and body["category"]["id"] == category.pk
    assert Contact.objects.get(email="hank@globex.test").name == "Hank Scorpio"
    assert body["requester"]["email"] == "hank@globex.test"
    assert ticket.events.filter(kind=TicketEvent.Kind.CREATED).exists()


def test_create_answers_from_the_inserted_ticket_and_the_intake_assigns_it_after_commit(
    client, login, make_user, django_capture_on_commit_callbacks
):
    login("agent")
    contact = ContactFactory()
    agent = AgentProfileFactory(user=make_user("agent", name="Ana Lima")).user
    SLAPolicyFactory()
    body = {"subject": "VPN down", "description": "Since 9am.", "requester_id": contact.pk, "priority": "urgent"}

    with django_capture_on_commit_callbacks(execute=False) as callbacks, CaptureQueriesContext(connection) as queries:
        response = post(client, TICKETS, body)

    assert response.status_code == 201
    created = response.json()
    ticket = Ticket.objects.get(pk=created["id"])
    # The SLA clocks went in with the INSERT, and the answer is the ticket as inserted (not read again).
    assert created["sla"]["first_response_due"] is not None and ticket.first_response_due is not None
    assert created["assignee"] is None and created["status"] == "new"
    inserts = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("INSERT")]
    assert sum('INTO "helpdesk_ticket" ' in sql for sql in inserts) == 1
    assert not [query for query in queries.captured_queries if 'UPDATE "helpdesk_ticket"' in query["sql"]]

    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()  # eager Celery: the intake runs here

    assert client.get(ticket_url(ticket.pk)).json()["assignee"]["id"] == agent.pk


def test_create_for_an_existing_contact(client, login):
    login("agent")
    contact = ContactFactory()

    response = post(client, TICKETS, {"subject": "Hi", "description": "Help", "requester_id": contact.pk})

    assert response.status_code == 201
    assert response.json()["customer"]["id"] == contact.customer_id


def test_create_validation_errors_are_400_with_field_messages(client, login):
    login("agent")

    response = post(
        client,
        TICKETS,
        {"subject": "", "description": "", "priority": "asap", "category_id": 999_999, "tags": ["x"] * 21},
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"] == "Some fields are not valid; see `fields`."
    fields = error["fields"]
    assert fields["subject"] == ["The subject cannot be empty."]
    assert fields["description"] == ["The description cannot be empty."]
    assert set(fields) == {"subject", "description", "priority", "category_id", "tags"}
    assert fields["category_id"] == ["No category has the id 999999 in this workspace."]
    assert not Ticket.objects.exists()


def test_create_needs_a_requester(client, login):
    login("agent")

    response = post(client, TICKETS, {"subject": "Hi", "description": "Help", "requester_email": "not-an-address"})
    missing = post(client, TICKETS, {"subject": "Hi", "description": "Help"})

    assert response.json()["error"]["fields"] == {"requester_email": ["Enter a valid email address."]}
    assert missing.json()["error"]["fields"]["requester_email"][0].startswith("Say who the ticket is for")


def test_create_with_attachments_as_multipart(client, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    login("agent")
    data = {"subject": "Broken", "description": "See logs", "requester_email": "a@b.test"}

    response = client.post(TICKETS, data | {"attachments": [SimpleUploadedFile("log.txt", b"error 42")]})
    refused = client.post(TICKETS, data | {"attachments": [SimpleUploadedFile("setup.exe", b"MZ")]})

    assert response.status_code == 201, response.json()
    message = TicketMessage.objects.get(ticket_id=response.json()["id"])
    assert message.attachments.get().filename == "log.txt"
    assert refused.status_code == 400
    assert ".exe files are not accepted" in refused.json()["error"]["fields"]["attachments"][0]
    assert Ticket.objects.count() == 1


# --- Read and edit ------------------------------------------------------------------------------


def test_retrieve_ticket_and_404_for_unknown_ids(client, login):
    login("viewer")
    ticket = TicketFactory(subject="Printer jams")

    body = client.get(ticket_url(ticket.pk)).json()
    missing = client.get(ticket_url(999_999))

    assert body["subject"] == "Printer jams" and body["description"] == ticket.original_description
    assert set(body["sla"]) >= {"policy_id", "first_response_due", "resolution_due", "due_at", "breached"}
    assert missing.status_code == 404
    assert missing.json()["error"] == {"code": "not_found", "message": "No ticket has the id 999999 in this workspace."}


def test_patch_changes_the_given_fields_and_bumps_the_version(client, login):
    login("agent")
    ticket = TicketFactory(subject="Old", priority="low")
    team = TeamFactory()

    response = patch(
        client,
        ticket_url(ticket.pk),
        {"version": ticket.version, "subject": "New", "team_id": team.pk, "description": "Clearer now."},
    )

    assert response.status_code == 200, response.json()
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority, ticket.team, ticket.original_description) == (
        "New",
        "low",
        team,
        "Clearer now.",
    )
    assert response.json()["version"] == ticket.version == 2


def test_patch_on_a_stale_version_is_409_and_saves_nothing(client, login):
    agent = login("agent")
    ticket = TicketFactory(subject="Original")
    seen = ticket.version
    services.ticket_update(ticket=ticket, actor=agent, data={"priority": "high"}, expected_version=seen)

    response = patch(client, ticket_url(ticket.pk), {"version": seen, "subject": "Mine"})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert f"you sent version {seen}, it is now version {seen + 1}" in error["message"]
    assert "Nothing was saved" in error["message"]
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority) == ("Original", "high")


def test_patch_needs_the_version_and_the_version_alone_changes_nothing(client, login):
    login("agent")
    ticket = TicketFactory()

    without_version = patch(client, ticket_url(ticket.pk), {"subject": "New"})
    only_version = patch(client, ticket_url(ticket.pk), {"version": ticket.version})
    blank = patch(client, ticket_url(ticket.pk), {"version": ticket.version, "subject": " ", "priority": "asap"})

    assert without_version.status_code == 400
    assert without_version.json()["error"]["fields"]["version"] == [
        "Send the version you read, so no one's change is overwritten."
    ]
    # The schema documents every other field as optional: a PATCH of the version alone is a no-op, not an error.
    assert only_version.status_code == 200 and only_version.json()["version"] == ticket.version
    assert set(blank.json()["error"]["fields"]) == {"subject", "priority"}
    ticket.refresh_from_db()
    assert ticket.version == 1


# --- Actions ------------------------------------------------------------------------------------


def test_status_action_solves_and_reopens(client, login):
    login("agent")
    ticket = TicketFactory(status="open")

    solved = post(client, ticket_url(ticket.pk, "status"), {"status": "solved", "version": ticket.version})
    reopened = post(client, ticket_url(ticket.pk, "status"), {"status": "open"})
    invalid = post(client, ticket_url(ticket.pk, "status"), {"status": "sleeping"})

    assert solved.status_code == 200 and solved.json()["status"] == "solved" and solved.json()["solved_at"]
    assert reopened.json()["status"] == "open" and reopened.json()["solved_at"] is None
    assert invalid.status_code == 400 and "status" in invalid.json()["error"]["fields"]
    assert ticket.events.filter(kind=TicketEvent.Kind.REOPENED).exists()
    ticket.refresh_from_db()
    current = client.get(ticket_url(ticket.pk, "status")).json()
    assert current == {
        "id": ticket.pk,
        "status": "open",
        "version": ticket.version,
        "solved_at": None,
        "closed_at": None,
    }


def test_status_action_with_a_stale_version_is_409(client, login):
    login("agent")
    ticket = TicketFactory(status="open")

    response = post(client, ticket_url(ticket.pk, "status"), {"status": "solved", "version": ticket.version + 3})

    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_assign_action(client, login, make_user):
    login("agent")
    ticket = TicketFactory(status="new")
    colleague, team = make_user("agent"), TeamFactory()

    assigned = post(client, ticket_url(ticket.pk, "assignment"), {"assignee_id": colleague.pk, "team_id": team.pk})
    unassigned = post(client, ticket_url(ticket.pk, "assignment"), {"assignee_id": None})

    assert assigned.status_code == 200, assigned.json()
    assert assigned.json()["assignee"]["id"] == colleague.pk and assigned.json()["status"] == "open"
    assert assigned.json()["team"]["id"] == team.pk
    assert unassigned.json()["assignee"] is None and unassigned.json()["team"]["id"] == team.pk
    current = client.get(ticket_url(ticket.pk, "assignment")).json()
    assert (current["assignee"], current["team"]["name"], current["version"]) == (None, team.name, 3)


def test_assign_refuses_people_who_do_not_work_tickets(client, login, make_user):
    login("agent")
    ticket = TicketFactory()
    viewer = make_user("viewer")
    gone = make_user("agent", is_active=False)

    for person in (viewer, gone):
        response = post(client, ticket_url(ticket.pk, "assignment"), {"assignee_id": person.pk})
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["assignee_id"] == [
            f"No active teammate who works tickets has the id {person.pk}."
        ]
    missing = post(client, ticket_url(ticket.pk, "assignment"), {})
    assert "assignee_id" in missing.json()["error"]["fields"]


# --- Messages -----------------------------------------------------------------------------------


def test_messages_list_oldest_first_with_cursor_pages(client, login):
    login("viewer")
    ticket = TicketFactory()
    messages = [TicketMessageFactory(ticket=ticket, body=f"Message {index}") for index in range(3)]
    TicketMessageFactory()  # another ticket's

    first = client.get(ticket_url(ticket.pk, "messages"), {"page_size": 2}).json()
    rest = client.get(first["next"]).json()

    assert [row["id"] for row in first["results"] + rest["results"]] == [message.pk for message in messages]
    assert first["results"][0]["author"]["id"] == messages[0].author_id
    assert first["results"][0]["from_customer"] is False


def test_reply_and_note_through_the_api(client, login):
    agent = login("agent")
    ticket = TicketFactory(status="new")

    reply = post(client, ticket_url(ticket.pk, "messages"), {"body": "On it!", "status": "pending"})
    note = post(client, ticket_url(ticket.pk, "messages"), {"body": "Customer is VIP", "kind": "note"})
    empty = post(client, ticket_url(ticket.pk, "messages"), {"body": "", "kind": "shout"})

    assert reply.status_code == 201 and reply.json()["kind"] == "reply"
    assert reply.json()["author"]["id"] == agent.pk
    assert note.status_code == 201 and note.json()["kind"] == "note"
    ticket.refresh_from_db()
    assert ticket.status == "pending" and ticket.first_responded_at is not None
    assert empty.status_code == 400
    assert empty.json()["error"]["fields"]["body"] == ["The message cannot be empty."]
    assert "kind" in empty.json()["error"]["fields"]


def test_reply_with_attachment_and_download_it_with_a_token(client, login, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    login("agent")
    ticket = TicketFactory()

    response = client.post(
        ticket_url(ticket.pk, "messages"),
        {"body": "Here is the fix", "attachments": [SimpleUploadedFile("fix.txt", b"restart the spooler")]},
    )
    too_big = client.post(
        ticket_url(ticket.pk, "messages"),
        {
            "body": "Big",
            "attachments": [SimpleUploadedFile("big.log", b"x" * (settings.HELPDESK_ATTACHMENT_MAX_BYTES + 1))],
        },
    )

    assert response.status_code == 201, response.json()
    attachment = response.json()["attachments"][0]
    assert (attachment["filename"], attachment["size"]) == ("fix.txt", 19)
    token = Token.objects.create(user=make_user("viewer"))
    download = Client(HTTP_HOST=client.defaults["HTTP_HOST"]).get(
        attachment["url"], HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"restart the spooler"
    assert download["Content-Disposition"].startswith("attachment")
    assert too_big.status_code == 400 and "the limit is" in too_big.json()["error"]["fields"]["attachments"][0]


# --- Permissions and isolation ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "sales"])
def test_members_without_tickets_edit_may_read_but_not_write(client, login, role):
    login(role)
    ticket = TicketFactory()

    assert client.get(TICKETS).status_code == 200
    assert client.get(ticket_url(ticket.pk)).status_code == 200
    assert client.get(ticket_url(ticket.pk, "messages")).status_code == 200
    writes = [
        post(client, TICKETS, {"subject": "x", "description": "y", "requester_email": "a@b.test"}),
        patch(client, ticket_url(ticket.pk), {"version": 1, "subject": "x"}),
        post(client, ticket_url(ticket.pk, "status"), {"status": "solved"}),
        post(client, ticket_url(ticket.pk, "assignment"), {"assignee_id": None}),
        post(client, ticket_url(ticket.pk, "messages"), {"body": "hi"}),
    ]
    assert [response.status_code for response in writes] == [403] * 5
    assert "tickets.edit" in writes[0].json()["error"]["message"]
    ticket.refresh_from_db()
    assert ticket.version == 1 and not ticket.messages.exists()


@pytest.mark.parametrize("role", ["agent", "admin", "owner"])
def test_ticket_workers_may_write(client, login, role):
    login(role)
    ticket = TicketFactory()

    assert post(client, ticket_url(ticket.pk, "messages"), {"body": "hi"}).status_code == 201


def test_anonymous_and_bad_tokens_are_refused(client):
    ticket = TicketFactory()

    assert client.get(TICKETS).status_code == 401
    assert client.get(ticket_url(ticket.pk), HTTP_AUTHORIZATION="Token nope").status_code == 401


def test_another_workspaces_tickets_are_invisible(client, login, other_tenant):
    login("agent")
    mine = TicketFactory(subject="Alpha printer")
    with tenant_context(other_tenant):
        theirs = TicketFactory(pk=mine.pk + 100_000, subject="Beta printer")  # an id alpha does not have

    assert ids(client.get(TICKETS, {"q": "printer"})) == [mine.pk]
    assert client.get(ticket_url(theirs.pk)).status_code == 404
    assert post(client, ticket_url(theirs.pk, "messages"), {"body": "hi"}).status_code == 404
    assert client.get(ticket_url(mine.pk)).json()["subject"] == "Alpha printer"


def test_schema_documents_the_helpdesk(client, login):
    login("viewer")

    schema = client.get("/api/v1/schema/").content

    for path in (b"/api/v1/tickets/", b"/api/v1/tickets/{ticket_id}/messages/", b"/api/v1/kb/articles/"):
        assert path in schema
    assert b"/api/v1/sla-policies/" in schema
