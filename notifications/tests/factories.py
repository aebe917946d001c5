"""Test data for notifications: one row of each model (the isolation suite's canaries are built with these)."""

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from notifications.models import (
    Delivery,
    DeliverySettings,
    Dispatch,
    Follow,
    Notification,
    NotificationTemplate,
    Preference,
    PushSubscription,
)


class DispatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dispatch

    event = "ticket.mentioned"
    recipient_ids = factory.LazyFunction(list)
    context = factory.LazyFunction(dict)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    event = "ticket.mentioned"
    title = factory.Sequence(lambda n: f"Notice {n}")
    created = factory.LazyFunction(timezone.now)


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    user = factory.SubFactory(UserFactory)
    event = "ticket.mentioned"
    channel = "email"
    title = factory.Sequence(lambda n: f"Delivery {n}")


class PreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Preference

    user = factory.SubFactory(UserFactory)
    event = factory.Sequence(lambda n: f"test.event{n}")
    channel = "email"
    enabled = False


class DeliverySettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliverySettings

    user = factory.SubFactory(UserFactory)
    timezone = "Europe/Berlin"


class NotificationTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationTemplate

    event = factory.Sequence(lambda n: f"test.event{n}")
    channel = "email"
    subject = factory.Sequence(lambda n: f"Subject {n}")
    body = "Body"


class PushSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PushSubscription

    user = factory.SubFactory(UserFactory)
    endpoint = factory.Sequence(lambda n: f"https://push.example.test/{n}")
    p256dh = "BPx"
    auth = "xyz"


class FollowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Follow

    user = factory.SubFactory(UserFactory)
    object_type = "ticket"
    object_id = factory.Sequence(lambda n: n + 1)
