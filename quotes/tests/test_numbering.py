"""Quote numbers under concurrency: creators on their own connections get consecutive numbers, none twice, and a
rolled-back creation gives its number back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections, transaction
from django_tenants.utils import tenant_context

from core.testing.live import run_in_thread
from customers.tests.factories import CustomerFactory
from quotes import services
from quotes.models import Quote, QuoteSequence

pytestmark = pytest.mark.django_db

CLIENTS = 8
PER_CLIENT = 25


@pytest.fixture
def committed(tenant):
    """A company committed for other connections to quote; everything they commit is removed afterwards."""

    def setup() -> int:
        with tenant_context(tenant):
            return CustomerFactory(name="Numbering Ltd").pk

    customer_id = run_in_thread(setup)
    yield customer_id

    def cleanup() -> None:
        with tenant_context(tenant):
            Quote.objects.filter(customer_id=customer_id).delete()
            CustomerFactory._meta.model.objects.filter(pk=customer_id).delete()

    run_in_thread(cleanup)


def _last_number(tenant) -> int:
    def read() -> int:
        with tenant_context(tenant):
            return (
                QuoteSequence.objects.filter(name=services.SEQUENCE).values_list("last_value", flat=True).first() or 0
            )

    return run_in_thread(read)


def test_concurrent_creators_get_every_number_once_without_gaps(tenant, committed):
    start = _last_number(tenant)
    barrier = threading.Barrier(CLIENTS, timeout=30)

    def client(_: int) -> list[int]:
        try:
            with tenant_context(tenant):
                barrier.wait()
                return [services.quote_create(actor=None, customer_id=committed).number for _ in range(PER_CLIENT)]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        numbers = [number for batch in pool.map(client, range(CLIENTS)) for number in batch]

    assert len(numbers) == len(set(numbers)) == CLIENTS * PER_CLIENT
    assert sorted(numbers) == list(range(start + 1, start + CLIENTS * PER_CLIENT + 1))


def test_a_rolled_back_creation_gives_its_number_back(tenant, committed):
    def create_then_fail() -> int:
        with tenant_context(tenant):
            try:
                with transaction.atomic():
                    services.quote_create(actor=None, customer_id=committed)
                    raise RuntimeError("the caller failed after creating")
            except RuntimeError:
                pass
            return services.quote_create(actor=None, customer_id=committed).number

    start = _last_number(tenant)
    assert run_in_thread(create_then_fail) == start + 1


def test_the_number_needs_the_creating_transaction():
    with pytest.raises(RuntimeError):
        run_in_thread(services.quote_number_next)
