"""The four ways in keep working while Redis refuses connections or hangs (a paused server, as in a partition).

Cache, broker, result backend and channel layer all point at a Redis of the test's own (`redis_outage`), which the
test then makes refuse connections or stops with SIGSTOP. Each way in is used twice: the first request may wait for
one Redis timeout (REDIS_TIMEOUT_SECONDS, 1 s) before the breaker opens; the second must not touch Redis at all.
Each time the test checks the answer, the time it took, and that the ticket, reply or sign-in really happened,
after-commit work included (the intake runs here, the analysis waits in the outbox, live pushes are dropped).
A first request with Redis up warms the process (templates, URL resolvers), so the timings measure the outage.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from conftest import TEST_PASSWORD
from core.models import OutboxMessage
from helpdesk.models import Ticket, TicketMessage
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

# One Redis timeout (1 s) plus the request's own work, with room for a loaded machine.
FIRST_REQUEST_SECONDS = 3.0
# The breaker is open: no Redis call at all, only the request's own work, which is measured with Redis up (the same
# request on the same machine, however loaded): waiting once on Redis would add a whole timeout (1 s) to it.
LATER_REQUEST_MARGIN_SECONDS = 0.9
ANALYSIS_TASK = "helpdesk.tasks.ticket_ai.analyze_ticket_task"
INTAKE_TASK = "helpdesk.tasks.tickets.ticket_intake_task"


@dataclass
class WayIn:
    """`attempt(n)` makes the n-th request and checks its answer; `happened(n)` checks that requests 1 to n, made
    while Redis was down, took effect (request 0 is the warm-up, made while it was up)."""

    attempt: Callable[[int], None]
    happened: Callable[[int], None]


def _tickets_created(subject: str) -> Callable[[int], None]:
    def happened(count: int) -> None:
        assert Ticket.objects.filter(subject__startswith=subject).count() == count + 1
        during = Ticket.objects.filter(subject__in=[f"{subject} {n}" for n in range(1, count + 1)])
        # The intake ran here (the broker could not take it); each analysis waits in the outbox for the broker.
        assert not OutboxMessage.objects.filter(task_name=INTAKE_TASK).exists()
        waiting = OutboxMessage.objects.filter(task_name=ANALYSIS_TASK).values_list("args", flat=True)
        assert sorted(args[0] for args in waiting) == sorted(during.values_list("pk", flat=True))

    return happened


def api_create(client: Client, make_user) -> WayIn:
    client.force_login(make_user("agent"))

    def attempt(n: int) -> None:
        body = {
            "subject": f"API outage {n}",
            "description": "Created while Redis is away.",
            "requester_email": "a@x.test",
        }
        response = client.post(reverse("helpdesk_api:ticket_list"), body, content_type="application/json")
        assert response.status_code == 201, response.content.decode()

    return WayIn(attempt, _tickets_created("API outage"))


def help_center_request(client: Client, make_user) -> WayIn:
    def attempt(n: int) -> None:
        form = {"name": "Jane Doe", "email": "jane@example.test", "subject": f"Help outage {n}", "description": "Hi."}
        response = client.post(reverse("help_center:request_new"), form)
        assert response.status_code == 302, response.content.decode()
        assert "?sent=1" in response["Location"]

    return WayIn(attempt, _tickets_created("Help outage"))


def agent_reply(client: Client, make_user) -> WayIn:
    client.force_login(make_user("agent"))
    ticket = TicketFactory(status="open")

    def attempt(n: int) -> None:
        response = client.post(
            reverse("tickets:ticket_reply", args=[ticket.pk]), {"kind": "reply", "body": f"Reply {n}"}
        )
        assert response.status_code == 302 and response["Location"] == reverse(
            "tickets:ticket_detail", args=[ticket.pk]
        )

    def happened(count: int) -> None:
        bodies = TicketMessage.objects.filter(ticket=ticket, kind="reply").values_list("body", flat=True)
        assert sorted(bodies) == [f"Reply {n}" for n in range(count + 1)]

    return WayIn(attempt, happened)


def password_login(client: Client, make_user) -> WayIn:
    user = make_user("agent", email=f"outage-{uuid.uuid4().hex[:8]}@example.test")
    signed_in: list[bool] = []

    def attempt(n: int) -> None:
        client.logout()
        response = client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.content.decode()
        signed_in.append(client.session.get("_auth_user_id") == str(user.pk))

    def happened(count: int) -> None:
        assert signed_in == [True] * (count + 1)

    return WayIn(attempt, happened)


WAYS_IN = {
    "api_create": api_create,
    "help_center_request": help_center_request,
    "agent_reply": agent_reply,
    "login": password_login,
}


@pytest.mark.parametrize("fault", ["refused", "hung"])
@pytest.mark.parametrize("way_in", list(WAYS_IN))
def test_a_way_in_answers_quickly_and_takes_effect_while_redis_is_down(
    way_in, fault, redis_outage, client, make_user, django_capture_on_commit_callbacks, caplog
):
    client.defaults["REMOTE_ADDR"] = f"10.8.{uuid.uuid4().bytes[0]}.{uuid.uuid4().bytes[0] or 1}"
    use = WAYS_IN[way_in](client, make_user)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        use.attempt(0)  # Redis up
    own_work = time.monotonic() - started
    redis_outage.refuse() if fault == "refused" else redis_outage.hang()

    durations = []
    with caplog.at_level(logging.WARNING, logger="core.breaker"):
        for n in (1, 2):
            started = time.monotonic()
            with django_capture_on_commit_callbacks(execute=True):  # the after-commit work is part of the answer
                use.attempt(n)
            durations.append(time.monotonic() - started)

    use.happened(2)
    assert durations[0] < FIRST_REQUEST_SECONDS, durations
    assert durations[1] < own_work + LATER_REQUEST_MARGIN_SECONDS, (own_work, durations)
    # One line when the breaker opened, not one per request or per Redis call.
    assert [record.message for record in caplog.records].count(caplog.records[0].message) == 1
    assert "is unreachable" in caplog.records[0].message
