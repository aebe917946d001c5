"""`manage.py seed_demo`: platform staff, two demo workspaces with a team and customers, idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import tenant_context

from customers.models import Customer, DailySummary
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def seed(customers: int = 4) -> str:
    out = StringIO()
    call_command("seed_demo", customers=customers, stdout=out)
    connection.set_schema_to_public()
    return out.getvalue()


def test_seed_demo_builds_the_demo_and_is_idempotent(public_schema, throwaway_slugs):
    throwaway_slugs.extend(["acme", "globex"])
    first = seed()
    assert "Platform staff staff@switchboard.test (created)" in first
    assert "Workspace Acme Corporation (created) at acme.localhost" in first
    assert "Workspace Globex Industries (created) at globex.localhost" in first
    assert "4 customers added" in first
    assert "summaries of yesterday" in first

    staff = get_user_model().objects.get(email="staff@switchboard.test")
    assert staff.is_superuser and staff.is_staff and staff.check_password(settings.DEMO_PASSWORD)
    acme = Tenant.objects.get(slug="acme")
    assert acme.is_active and acme.name == "Acme Corporation"
    with tenant_context(acme):
        people = get_user_model().objects
        assert people.filter(email="owner@acme.test", role="owner").exists()
        assert people.get(email="agent@acme.test").check_password(settings.DEMO_PASSWORD)
        assert Customer.objects.count() == 4
        assert DailySummary.objects.exists()  # the company pages show their "Yesterday" card
        owner_roles = set(Customer.objects.exclude(owner=None).values_list("owner__role", flat=True))
        assert owner_roles <= {"agent", "sales"}
        # Each person's notification centre names the demo's own tickets; one spent budget for owners only.
        from helpdesk.models import Ticket
        from notifications.models import Notification

        owner_notices = Notification.objects.filter(user__email="owner@acme.test")
        assert owner_notices.filter(read_at=None).count() == 4
        assert owner_notices.filter(event="ai.budget_exhausted").count() == 1
        assert not Notification.objects.filter(user__email="agent@acme.test", event="ai.budget_exhausted").exists()
        notice = owner_notices.exclude(event="ai.budget_exhausted").first()
        assert Ticket.objects.get(pk=int(notice.link.split("/")[2])).subject in notice.body

    second = seed()
    assert "(exists)" in second and "(created)" not in second
    assert "0 customers added" in second
    assert Tenant.objects.filter(slug__in=["acme", "globex"]).count() == 2
    with tenant_context(acme):
        assert Customer.objects.count() == 4
