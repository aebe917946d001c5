"""The API channel, POST /api/v1/inbox/messages/: opens a ticket or adds to one, token-authenticated, with
base64 attachments and an Idempotency-Key (same key + same body → the same answer; another body → 409;
concurrent duplicates → one ticket)."""

from __future__ import annotations

import base64
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from helpdesk.models import Ticket, TicketMessage
from helpdesk.tests.factories import TicketFactory
from inbox.models import ApiIdempotencyKey
from inbox.services import api_channel

pytestmark = pytest.mark.django_db

URL = reverse("inbox_api:message_create")


@pytest.fixture
def api(client, make_user):
    user = make_user("agent")
    token = Token.objects.create(user=user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


def send(api, data: dict, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post(URL, data, content_type="application/json", **headers)


def test_a_message_without_ticket_id_opens_a_ticket_on_the_api_channel(api):
    response = send(api, {"subject": "Form: refund", "body": "I want my money back.", "requester_email": "r@x.test"})
    assert response.status_code == 201, response.content
    answer = response.json()
    ticket = Ticket.objects.get(pk=answer["ticket_id"])
    assert answer["created_ticket"] is True and answer["refused_attachments"] == []
    assert ticket.channel == "api" and ticket.subject == "Form: refund" and ticket.requester.email == "r@x.test"


def test_without_a_subject_the_first_line_of_the_body_is_used(api):
    response = send(api, {"body": "\n  Order 1234 never arrived\nIt was due Monday.", "requester_email": "r@x.test"})
    assert Ticket.objects.get(pk=response.json()["ticket_id"]).subject == "Order 1234 never arrived"


def test_a_message_with_ticket_id_is_added_to_that_ticket(api):
    ticket = TicketFactory(status=Ticket.Status.PENDING)
    response = send(api, {"ticket_id": ticket.pk, "body": "Any news?"})
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["created_ticket"] is False and answer["ticket_id"] == ticket.pk
    message = TicketMessage.objects.get(pk=answer["message_id"])
    assert message.channel == "api" and message.author_contact_id == ticket.requester_id
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_attachments_come_as_base64_and_refused_files_are_listed_not_fatal(api):
    files = [
        {"filename": "log.txt", "content_type": "text/plain", "content": base64.b64encode(b"tray 2 jam\n").decode()},
        {
            "filename": "run.exe",
            "content_type": "application/octet-stream",
            "content": base64.b64encode(b"MZ\x90\x00").decode(),
        },
    ]
    response = send(api, {"body": "See attached.", "requester_email": "r@x.test", "attachments": files})
    assert response.status_code == 201, response.content
    answer = response.json()
    assert len(answer["refused_attachments"]) == 1
    ticket = Ticket.objects.get(pk=answer["ticket_id"])
    assert [a.filename for m in ticket.messages.all() for a in m.attachments.all()] == ["log.txt"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": "No one wrote this"}, "requester_email"),
        ({"body": " ", "requester_email": "r@x.test"}, "body"),
        (
            {"body": "x", "requester_email": "r@x.test", "attachments": [{"filename": "a", "content": "%%%"}]},
            "attachments",
        ),
        ({"body": "x", "ticket_id": 999_999}, "ticket_id"),
    ],
)
def test_bad_input_is_refused_in_the_api_error_format(api, data, field):
    response = send(api, data)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


def test_a_closed_ticket_is_a_conflict(api):
    ticket = TicketFactory(status=Ticket.Status.CLOSED)
    response = send(api, {"ticket_id": ticket.pk, "body": "Hello?"})
    assert response.status_code == 409 and "closed" in response.json()["error"]["message"]


def test_the_same_key_and_body_replays_the_first_answer(api):
    data = {"subject": "Bot", "body": "Hello from the bot", "requester_email": "bot@x.test"}
    first = send(api, data, key="order-1234")
    again = send(api, data, key="order-1234")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.filter(subject="Bot").count() == 1


def test_the_same_key_with_another_body_is_refused(api):
    send(api, {"body": "One", "requester_email": "bot@x.test"}, key="k-1")
    response = send(api, {"body": "Two", "requester_email": "bot@x.test"}, key="k-1")
    assert response.status_code == 409
    assert "different request" in response.json()["error"]["message"]
    assert not Ticket.objects.filter(original_description="Two").exists()


def test_a_refused_request_stores_nothing_so_the_key_can_be_used_again(api):
    assert send(api, {"body": "No one"}, key="k-2").status_code == 400
    assert send(api, {"body": "Me", "requester_email": "r@x.test"}, key="k-2").status_code == 201


def test_an_expired_key_is_forgotten(api):
    data = {"body": "Hello", "requester_email": "r@x.test"}
    send(api, data, key="k-3")
    ApiIdempotencyKey.objects.filter(key="k-3").update(expires_at=timezone.now() - timedelta(seconds=1))
    again = send(api, data, key="k-3")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Ticket.objects.filter(original_description="Hello").count() == 2
    ApiIdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_channel.idempotency_keys_purge() == 1


def test_signed_out_callers_and_viewers_are_refused(client, make_user):
    assert send(client, {"body": "x", "requester_email": "r@x.test"}).status_code == 401
    token = Token.objects.create(user=make_user("viewer"))
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    assert send(client, {"body": "x", "requester_email": "r@x.test"}).status_code == 403


def test_concurrent_duplicates_make_one_ticket(live_data):
    """Two requests with the same key at once: the second waits on the key's unique index until the first commits,
    then replays its answer. Each runs in its own committed connection (live_data), the second only once the first
    holds the key."""
    from django_tenants.utils import tenant_context

    from customers.models import Contact, Customer

    domain = f"race-{uuid.uuid4().hex[:8]}.test"
    key = f"race-{uuid.uuid4().hex}"
    live_data.add_cleanup(lambda: Customer.objects.filter(domain=domain).delete())
    live_data.add_cleanup(lambda: Contact.objects.filter(email__endswith=f"@{domain}").delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(requester__email__endswith=f"@{domain}").delete())
    live_data.add_cleanup(lambda: ApiIdempotencyKey.objects.filter(key=key).delete())
    inside, answers, errors = threading.Event(), {}, []

    def run(name: str) -> tuple[int, dict]:
        received, _ = api_channel.api_message_receive(body="Twice at once", requester_email=f"r@{domain}")
        if name == "first":
            inside.set()
            _until_someone_waits_for_a_lock()
        return 201, {"ticket_id": received.ticket_id}

    def request(name: str) -> None:
        try:
            with live_data.unblock(), tenant_context(live_data.tenant):
                answers[name] = api_channel.idempotent(key=key, fingerprint="same", user_id=None, run=lambda: run(name))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    first = threading.Thread(target=request, args=("first",))
    first.start()
    assert inside.wait(30)
    second = threading.Thread(target=request, args=("second",))
    second.start()
    first.join(30)
    second.join(30)
    assert errors == []
    assert not answers["first"].replayed and answers["second"].replayed
    assert answers["first"].body == answers["second"].body
    assert live_data.run(lambda: Ticket.objects.filter(requester__email__endswith=f"@{domain}").count()) == 1


def _until_someone_waits_for_a_lock(timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # Inside a transaction PostgreSQL keeps the first snapshot of pg_stat_activity: take a fresh one.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second request never waited for the key")
