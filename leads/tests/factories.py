"""Test data for pipelines, stages, leads, their moves and activities."""

import uuid
from decimal import Decimal

import factory

from accounts.tests.factories import UserFactory
from leads.models import (
    Lead,
    LeadActivity,
    LeadCaptureForm,
    LeadCaptureSubmission,
    LeadSavedView,
    LeadStageChange,
    Pipeline,
    Stage,
)


class PipelineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pipeline

    name = factory.Sequence(lambda n: f"Pipeline {n}")
    is_default = False


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    pipeline = factory.SubFactory(PipelineFactory)
    name = factory.Sequence(lambda n: f"Stage {n}")
    order = factory.Sequence(lambda n: n)
    probability = 25
    kind = Stage.Kind.OPEN


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    title = factory.Sequence(lambda n: f"Deal {n:04d}")
    stage = factory.SubFactory(StageFactory)
    owner = factory.SubFactory(UserFactory)
    value = Decimal("1000.00")
    currency = "USD"
    source = Lead.Source.WEBSITE
    position = factory.Sequence(lambda n: float(n) * 1024)
    probability = factory.LazyAttribute(lambda lead: lead.stage.probability)
    tags = factory.LazyFunction(list)


class LeadStageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadStageChange

    lead = factory.SubFactory(LeadFactory)
    from_stage = None
    to_stage = factory.LazyAttribute(lambda change: change.lead.stage)


class LeadActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadActivity

    lead = factory.SubFactory(LeadFactory)
    kind = LeadActivity.Kind.CALL
    subject = factory.Sequence(lambda n: f"Call {n}")


class LeadCaptureFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadCaptureForm

    name = factory.Sequence(lambda n: f"Contact form {n}")
    enabled = True
    allowed_origins = factory.LazyFunction(lambda: ["https://www.example.org"])


class LeadCaptureSubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadCaptureSubmission

    form = factory.SubFactory(LeadCaptureFormFactory)
    submission_id = factory.LazyFunction(uuid.uuid4)
    lead = factory.SubFactory(LeadFactory)
    origin = "https://www.example.org"


class LeadSavedViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadSavedView

    name = factory.Sequence(lambda n: f"View {n}")
    owner = factory.SubFactory(UserFactory)
    filters = factory.LazyFunction(lambda: {"status": "open"})
    # Shared, as the ticket views' factory: a view every workspace member can see (managers change it).
    shared = True
