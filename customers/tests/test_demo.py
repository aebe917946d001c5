"""Demo data: realistic, deterministic, valid by our own rules, and skipped when customers exist."""

from __future__ import annotations

import pytest

from customers.demo import seed_customers
from customers.models import Contact, Customer
from customers.validators import normalize_domain

pytestmark = pytest.mark.django_db


def test_seed_customers_creates_companies_and_people(make_user):
    owners = [make_user("sales"), make_user("agent")]

    created = seed_customers(owners=owners, customers=40, contacts=120, seed=7)

    assert created == 40
    assert Customer.objects.count() == 40 and Contact.objects.count() == 120
    assert Customer.objects.filter(contacts__isnull=True).count() == 0  # everybody has at least one person
    domains = list(Customer.objects.values_list("domain", flat=True))
    assert len(set(domains)) == 40
    assert all(normalize_domain(domain) == domain for domain in domains)
    assert set(Customer.objects.exclude(owner=None).values_list("owner", flat=True)) <= {o.pk for o in owners}
    for contact in Contact.objects.select_related("customer"):
        assert contact.email.endswith("@" + contact.customer.domain)
        assert contact.created >= contact.customer.created
    assert len(set(Customer.objects.values_list("tier", flat=True))) > 1


def test_seed_customers_is_deterministic_per_seed(make_user):
    seed_customers(owners=[], customers=15, contacts=15, seed=3)
    first = list(Customer.objects.order_by("name").values_list("name", "domain", "tier", "tags"))
    Contact.objects.all().delete()
    Customer.objects.all().delete()

    seed_customers(owners=[], customers=15, contacts=15, seed=3)

    assert list(Customer.objects.order_by("name").values_list("name", "domain", "tier", "tags")) == first


def test_seed_customers_does_nothing_when_customers_exist():
    Customer.objects.create(name="Real customer")

    assert seed_customers(owners=[], customers=10, contacts=10) == 0
    assert Customer.objects.count() == 1


def test_seed_notes_and_tasks_gives_companies_a_history_once(make_user):
    from customers.demo import seed_notes_and_tasks
    from customers.models import Note, Task

    owners = [make_user("sales"), make_user("agent")]
    seed_customers(owners=owners, customers=30, contacts=60, seed=5)

    notes, tasks = seed_notes_and_tasks(authors=owners, seed=5)

    assert notes == Note.objects.count() > 10 and tasks == Task.objects.count() > 3
    assert Note.objects.exclude(contact=None).exists() and Task.objects.filter(done=True).exists()
    for task in Task.objects.select_related("contact"):
        assert task.contact is None or task.contact.customer_id == task.customer_id
        assert task.reminder_at is None or task.reminder_at <= task.due_at
    assert seed_notes_and_tasks(authors=owners, seed=5) == (0, 0)


def test_seed_health_backfills_a_history_once_then_scores_today_only():
    from datetime import timedelta

    from django.utils import timezone

    from customers.demo import seed_health
    from customers.models import HealthSnapshot
    from customers.tests.factories import CustomerFactory

    customer = CustomerFactory()

    first = seed_health(days=5)
    second = seed_health(days=5)

    days = list(HealthSnapshot.objects.filter(customer=customer).values_list("day", flat=True))
    assert days == [timezone.localdate() - timedelta(days=n) for n in range(5, -1, -1)]
    assert "5 days of history" in first and "history" not in second
    customer.refresh_from_db()
    assert customer.health_band == Customer.HealthBand.UNKNOWN  # no tickets: the neutral score, not a made-up one
