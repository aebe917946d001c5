"""Test data for insights: rollup counters and ledger rows, trends and their alerts, report schedules."""

import datetime

import factory
from django.utils import timezone

from insights.models import DailyRollup, Dashboard, DashboardWidget, ReportSchedule, RollupSource, Trend, TrendAlert


class TrendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trend

    kind = Trend.Kind.DEFECT
    name = factory.Sequence(lambda n: f"Export fails {n}")
    keywords = factory.LazyFunction(lambda: ["export", "pdf"])
    centroid = factory.LazyFunction(lambda: [1.0] + [0.0] * 383)
    ticket_ids = factory.LazyFunction(list)
    customer_ids = factory.LazyFunction(list)
    figures = factory.LazyFunction(lambda: {"recent": 6, "baseline": 0, "expected": 0.5, "p_value": 1e-6})
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)


class TrendAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrendAlert

    trend = factory.SubFactory(TrendFactory)
    kind = factory.SelfAttribute("trend.kind")
    recipients = factory.LazyFunction(lambda: ["lead@example.test"])


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


class DashboardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dashboard

    name = factory.Sequence(lambda n: f"Dashboard {n}")
    owner = factory.SubFactory("accounts.tests.factories.UserFactory")
    shared = True


class DashboardWidgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DashboardWidget

    dashboard = factory.SubFactory(DashboardFactory)
    key = "tickets_created"
    position = factory.Sequence(lambda n: n)


class ReportScheduleFactory(factory.django.DjangoModelFactory):
    """A weekly report of the support preset, owned by an admin, to nobody until `recipients` are given."""

    class Meta:
        model = ReportSchedule
        skip_postgeneration_save = True

    preset = "support"
    frequency = ReportSchedule.Frequency.WEEKLY
    owner = factory.SubFactory("accounts.tests.factories.UserFactory", role="admin")
    next_due = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def recipients(self, create, extracted, **kwargs):
        if create and extracted:
            self.recipients.set(extracted)
