"""Links in emails (core.links): the workspace's primary domain, kept per process and renewed when a domain changes."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from core.links import workspace_url
from tenants.models import Domain

pytestmark = pytest.mark.django_db


def test_the_primary_domain_is_read_once_and_renewed_when_a_domain_changes(django_assert_num_queries):
    tenant = connection.tenant
    first = workspace_url("/x")
    with django_assert_num_queries(0):
        assert workspace_url("/x") == first

    with schema_context("public"):
        domain = Domain.objects.get(tenant=tenant, is_primary=True)
        domain.domain = "renamed.example.test"
        domain.save()

    assert "//renamed.example.test" in workspace_url("/x")
