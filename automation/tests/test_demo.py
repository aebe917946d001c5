"""Demo automation: enabled rules from the library with run logs made by the engine; seeding again adds nothing."""

from __future__ import annotations

import pytest

from automation.demo import DEMO_RULES, seed_automation
from automation.models import Rule, RuleRun
from customers.demo import seed_customers
from helpdesk.demo import seed_helpdesk

pytestmark = pytest.mark.django_db


def test_demo_rules_are_enabled_with_runs_and_seeding_again_adds_nothing(make_user):
    admin = make_user("admin")
    seed_customers(owners=[admin], customers=8, contacts=16, seed=3)
    seed_helpdesk(agents=[make_user("agent"), make_user("agent"), admin], tickets=60, seed=3, days=20, articles=False)

    summary = seed_automation(admin=admin)

    assert Rule.objects.filter(enabled=True).count() == len(DEMO_RULES)
    assert RuleRun.objects.exists(), summary
    assert all(rule.versions.filter(author=admin).exists() for rule in Rule.objects.all())
    runs = RuleRun.objects.count()
    assert seed_automation(admin=admin) == "automation rules already there"
    assert RuleRun.objects.count() == runs
