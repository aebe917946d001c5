"""The help-center request form's limits: only accepted requests count, per address and per requester email, and
a visitor over the limit gets the form back with what they typed."""

from __future__ import annotations

import pytest
from django.test import Client

from helpdesk.models import Ticket
from helpdesk.tests.test_help_center import REQUEST, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_per_hour(monkeypatch):
    from helpdesk.views import help_center as views

    monkeypatch.setitem(views.LIMITS, "request", (2, 3600))
    monkeypatch.setitem(views.LIMITS, "request_email", (2, 3600))


def visitor(client, address: str) -> Client:
    return Client(HTTP_HOST=client.defaults["HTTP_HOST"], REMOTE_ADDR=address)


def test_refused_forms_do_not_use_up_the_limit(client, two_per_hour):
    for _ in range(5):
        assert submit(client, REQUEST | {"description": ""}).status_code == 400
    assert submit(client).status_code == 302
    assert submit(client, REQUEST | {"email": "second@example.test"}).status_code == 302
    assert Ticket.objects.count() == 2


def test_over_the_limit_the_form_comes_back_with_what_was_typed(client, two_per_hour):
    submit(client, REQUEST | {"email": "a@example.test"})
    submit(client, REQUEST | {"email": "b@example.test"})
    typed = {
        "name": "Kim Lee",
        "email": "kim@example.test",
        "subject": "Export stops at 99 %",
        "description": "A long description the visitor would hate to type again.",
    }

    response = submit(client, typed)

    assert response.status_code == 429 and response["Retry-After"] == "3600"
    html = response.content.decode()
    assert "several requests from your connection" in html and "about 60 minutes" in html
    for value in typed.values():
        assert value in html
    assert 'data-testid="request-form"' in html
    assert Ticket.objects.count() == 2


def test_requests_for_one_email_address_are_limited_from_any_address(client, two_per_hour):
    statuses = [submit(visitor(client, f"192.0.2.{n}")).status_code for n in range(1, 4)]

    assert statuses == [302, 302, 429]
    limited = submit(visitor(client, "192.0.2.9"))
    assert limited.status_code == 429 and "several requests for this email address" in limited.content.decode()
    assert REQUEST["description"] in limited.content.decode()
    assert submit(visitor(client, "192.0.2.10"), REQUEST | {"email": "other@example.test"}).status_code == 302
    assert Ticket.objects.count() == 3


def test_the_email_limit_ignores_case_and_spaces(client, two_per_hour):
    for n, email in enumerate(["Jane@Example.test", "jane@example.TEST"]):
        assert submit(visitor(client, f"198.51.100.{n + 1}"), REQUEST | {"email": email}).status_code == 302
    assert submit(visitor(client, "198.51.100.3"), REQUEST | {"email": " JANE@example.test "}).status_code == 429


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_forwarded_for_does_not_escape_the_limit(client, two_per_hour, settings, proxies):
    """With no proxy the header is ignored; behind one, only the entry our proxy appended (the right-most) counts."""
    settings.TRUSTED_PROXY_COUNT = proxies
    proxy = visitor(client, "10.0.0.1")
    statuses = [
        submit(proxy, REQUEST | {"email": f"p{n}@example.test"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7")
        for n in range(3)
    ]
    assert [response.status_code for response in statuses] == [302, 302, 429]
    if proxies:  # another client behind the same proxy has an allowance of its own
        other = submit(proxy, REQUEST | {"email": "q@example.test"}, HTTP_X_FORWARDED_FOR="198.51.100.8")
        assert other.status_code == 302
