"""Microsoft 365 polling through the real parts: the poll queued on the Redis broker, run by a real Celery worker
that reaches the Graph fake over TLS through the egress guard, stores the message and files it as a ticket.

The worker is this module's own (the session's shared worker knows nothing of the fake): it gets the fake's
addresses and CA in its environment, as a deployment would get the real services' in its configuration.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from celery.result import AsyncResult

from core.testing.fixtures import _forget_celery_connections, _test_database_url, _use_redis
from core.testing.live import CeleryWorker, server_env
from customers.models import Contact
from helpdesk.models import Ticket
from inbox.models import InboundEmail, Mailbox
from inbox.tasks.cloudmail import cloud_mailbox_poll_task
from inbox.tests.factories import raw_email
from inbox.tests.fakes import fixtures
from inbox.tests.fakes.microsoft365 import CLIENT_ID, CLIENT_SECRET, TENANT_ID, GraphFake

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]
mail_ca = fixtures.mail_ca


@pytest.fixture(scope="module")
def live_graph(mail_ca) -> Iterator[GraphFake]:
    ca, path = mail_ca
    with GraphFake(ca=ca, ca_path=path) as fake:
        yield fake


@pytest.fixture(scope="module")
def graph_worker(django_db_setup, redis_databases, live_log_dir, live_graph, mail_ca) -> Iterator[CeleryWorker]:
    redis_url = redis_databases.lease()
    env = server_env(database=_test_database_url(), redis_url=redis_url) | {
        "EGRESS_CA_BUNDLE": mail_ca[1],
        "MICROSOFT_LOGIN_BASE_URL": live_graph.origin,
        "MICROSOFT_GRAPH_BASE_URL": live_graph.origin,
    }
    worker = CeleryWorker.start(env=env, redis_url=redis_url, log_dir=live_log_dir)
    yield worker
    worker.stop()


@pytest.fixture
def graph_celery(settings, graph_worker) -> Iterator[CeleryWorker]:
    _use_redis(settings, graph_worker.redis_url)
    yield graph_worker
    _forget_celery_connections()


def test_a_poll_queued_on_the_broker_imports_mail_and_opens_a_ticket(graph_celery, live_data, live_graph):
    tag = uuid.uuid4().hex[:8]
    address, message_id = f"live-{tag}@contoso.example", f"<live-{tag}@customer.test>"
    sender = f"dana-{tag}@customer.test"
    live_graph.deliver(address, raw_email(message_id=message_id, sender=sender, subject=f"Printer {tag}"))

    def create() -> int:
        mailbox = Mailbox(kind=Mailbox.Kind.MICROSOFT365, name="Live", address=address,
                          settings={"tenant_id": TENANT_ID, "client_id": CLIENT_ID})  # fmt: skip
        mailbox.secrets_set({"client_secret": CLIENT_SECRET})
        mailbox.save()
        return mailbox.pk

    mailbox_id = live_data.run(create)
    # Cleanups run last-added first: the mailbox goes last, the rows that point at it before.
    live_data.add_cleanup(lambda: Mailbox.objects.filter(pk=mailbox_id).delete())
    live_data.add_cleanup(lambda: Contact.objects.filter(email=sender).delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(subject=f"Printer {tag}").delete())
    live_data.add_cleanup(lambda: InboundEmail.objects.filter(message_id=message_id).delete())

    task_id = live_data.run(lambda: cloud_mailbox_poll_task.delay(mailbox_id).id)

    assert AsyncResult(task_id).get(timeout=30) == "imported:1"
    inbound = _wait_for(live_data, lambda: InboundEmail.objects.filter(message_id=message_id, status="imported"))
    ticket = live_data.run(lambda: Ticket.objects.get(pk=inbound.ticket_id))
    assert (inbound.source, inbound.mailbox_id, ticket.subject) == ("graph", mailbox_id, f"Printer {tag}")
    mailbox = live_data.run(lambda: Mailbox.objects.get(pk=mailbox_id))
    assert mailbox.status == Mailbox.Status.CONNECTED and "$deltatoken=" in mailbox.cursor["delta_link"]


def _wait_for(live_data, query, timeout: float = 30.0):
    """The first row `query()` finds, polled until a deadline (the worker processes it after the poll commits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = live_data.run(lambda: query().first())
        if row is not None:
            return row
        time.sleep(0.2)
    raise AssertionError("the worker did not file the message in time")
