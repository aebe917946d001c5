"""Test data for customers and contacts."""

import factory

from customers.models import Contact, Customer, Note, Task


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
