"""Fixtures for core's tests."""

from __future__ import annotations

import pytest
from django.db import connection


@pytest.fixture
def beta(tenant, other_tenant):
    """Workspace beta, with the test still running in alpha (`other_tenant` leaves the connection on public)."""
    connection.set_tenant(tenant)
    return other_tenant
