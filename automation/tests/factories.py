"""Test data for automation: rules (a ticket rule that sets the priority by default), versions, runs, firings."""

import factory

from automation.models import Rule, RuleFiring, RuleRun, RuleVersion


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule

    name = factory.Sequence(lambda n: f"Rule {n}")
    trigger = "ticket.created"
    conditions = factory.LazyFunction(
        lambda: {"all": [{"field": "priority", "op": "is", "value": "urgent"}], "any": []}
    )
    actions = factory.LazyFunction(lambda: [{"type": "add_tags", "value": ["escalated"]}])
    position = factory.Sequence(lambda n: (n + 1) * 10)
    enabled = True


class RuleVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleVersion

    rule = factory.SubFactory(RuleFactory)
    number = factory.Sequence(lambda n: n + 1)
    snapshot = factory.LazyAttribute(lambda o: {"name": o.rule.name})


class RuleRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleRun

    rule = factory.SubFactory(RuleFactory)
    event = "ticket.created"
    object_type = "ticket"
    object_id = 1


class RuleFiringFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleFiring

    rule = factory.SubFactory(RuleFactory)
    event_key = factory.Sequence(lambda n: f"event-{n}")
    object_type = "ticket"
    object_id = 1
