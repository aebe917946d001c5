"""`SET search_path` runs once per workspace request, not once per query (TENANT_LIMIT_SET_CALLS).

django-tenants 4 issues the SET on the cursor Django wraps (postgresql_backend/base.py, `_cursor` passes
its unnamed cursor to `_handle_search_path`), so CaptureQueriesContext sees it like any other statement.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

# The page people land on after signing in: session, user, the customer list and its counts.
PAGE = "/customers/"


def statements_of_one_request(browser: Client) -> list[str]:
    browser.get(PAGE)  # warms the host → workspace cache, as on a running server
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(PAGE)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def set_calls(statements: list[str]) -> int:
    return sum(sql.startswith("SET search_path") for sql in statements)


@pytest.fixture
def signed_in(client, login) -> Client:
    login("agent")
    return client


def test_a_workspace_page_sets_the_search_path_once(signed_in):
    statements = statements_of_one_request(signed_in)
    assert len(statements) >= 3, statements  # enough queries that a per-query SET would show
    assert set_calls(statements) == 1, statements
    assert statements[0] == 'SET search_path = "t_alpha","public"'


def test_without_the_limit_every_query_would_set_it(signed_in, settings):
    """Proves the count above measures something: switch the limit off and the SETs multiply."""
    settings.TENANT_LIMIT_SET_CALLS = False
    statements = statements_of_one_request(signed_in)
    assert set_calls(statements) > 1
