"""Test data for customers and contacts."""

import datetime

import factory

from customers.models import (
    Contact,
    Customer,
    DailySummary,
    HealthBand,
    HealthDigestSent,
    HealthSnapshot,
    Note,
    Task,
)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Company {n:04d}")
    domain = factory.LazyAttribute(lambda customer: f"{customer.name.lower().replace(' ', '')}.test")
    industry = "Software"
    tier = Customer.Tier.STARTER
    tags = factory.LazyFunction(list)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@contact.test")
    phone = "+1 555 0100"
    title = "Head of Support"


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    customer = factory.SubFactory(CustomerFactory)
    body = factory.Sequence(lambda n: f"Note {n}: spoke about renewal.")


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    customer = factory.SubFactory(CustomerFactory)
    title = factory.Sequence(lambda n: f"Follow up {n}")


class HealthSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HealthSnapshot

    customer = factory.SubFactory(CustomerFactory)
    day = factory.Sequence(lambda n: datetime.date(2026, 1, 1) + datetime.timedelta(days=n))
    at = factory.LazyAttribute(lambda s: datetime.datetime.combine(s.day, datetime.time(12), tzinfo=datetime.UTC))
    score = 72
    band = HealthBand.HEALTHY
    drivers = factory.LazyFunction(
        lambda: [
            {
                "key": "csat",
                "label": "CSAT",
                "points": 12,
                "value": "4.7/5",
                "explanation": "Average rating 4.7 / 5 from 6 answers in the last 90 days.",
                "has_data": True,
            }
        ]
    )


class DailySummaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailySummary

    customer = factory.SubFactory(CustomerFactory)
    day = factory.Sequence(lambda n: datetime.date(2026, 1, 1) + datetime.timedelta(days=n))
    counts = factory.LazyFunction(lambda: [{"kind": "note", "label": "Notes", "count": 1}])
    statements = factory.LazyFunction(lambda: [{"text": "Spoke about renewal.", "sources": [1]}])
    sources = factory.LazyFunction(
        lambda: [
            {
                "number": 1,
                "kind": "note",
                "source_app": "customers",
                "id": 1,
                "at": "2026-01-01T12:00:00+00:00",
                "title": "Note",
                "summary": "Spoke about renewal.",
                "url": "/customers/1/#note-1",
                "actor": "",
            }
        ]
    )
    model = "extractive"


class HealthDigestSentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HealthDigestSent

    owner = factory.SubFactory("accounts.tests.factories.UserFactory")
    week = factory.Sequence(lambda n: datetime.date(2026, 1, 5) + datetime.timedelta(weeks=n))
