"""Test data for insights: rollup counters and ledger rows."""

import datetime

import factory

from insights.models import DailyRollup, RollupSource


class DailyRollupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyRollup

    day = factory.LazyFunction(datetime.date.today)
    metric = "created"
    channel = "email"
    priority = "normal"
    count = 1


class RollupSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RollupSource

    kind = "ticket"
    source_id = factory.Sequence(lambda n: n + 1)
    contributions = factory.LazyFunction(list)
