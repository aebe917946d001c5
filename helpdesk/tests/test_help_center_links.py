"""Help-center status links expire (HELP_CENTER_LINK_MAX_AGE_DAYS, 90 by default) and die with their ticket: an
expired, merged or deleted ticket's link gets a friendly page that says why, never the ticket."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core import signing
from django.db import connection
from django.urls import reverse

from helpdesk.selectors import help_center as help_selectors
from helpdesk.services import tickets as ticket_services
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

DAY = 24 * 3600


def link_made_days_ago(ticket, days: float) -> str:
    made = time.time() - days * DAY
    with mock.patch("django.core.signing.time.time", return_value=made):
        return reverse("help_center:request_status", args=[help_selectors.request_token(ticket)])


def test_the_default_lifetime_is_90_days(settings):
    from config.settings import base

    assert base.HELP_CENTER_LINK_MAX_AGE_DAYS == 90


def test_a_link_works_until_it_expires(client, settings):
    settings.HELP_CENTER_LINK_MAX_AGE_DAYS = 90
    ticket = TicketFactory(subject="Printer offline")

    fresh = client.get(link_made_days_ago(ticket, 89))
    expired = client.get(link_made_days_ago(ticket, 91))

    assert fresh.status_code == 200 and "Printer offline" in fresh.content.decode()
    assert expired.status_code == 410
    html = expired.content.decode()
    assert 'data-testid="link-refused"' in html and "This link has expired" in html and "90 days" in html
    assert f"request #{ticket.pk}" in html and "Printer offline" not in html


def test_the_lifetime_is_a_setting(client, settings):
    settings.HELP_CENTER_LINK_MAX_AGE_DAYS = 1
    ticket = TicketFactory()

    assert client.get(link_made_days_ago(ticket, 2)).status_code == 410


def test_a_merged_tickets_link_no_longer_opens_it(client, make_user):
    source, target = TicketFactory(subject="Duplicate question"), TicketFactory()
    url = reverse("help_center:request_status", args=[help_selectors.request_token(source)])
    assert client.get(url).status_code == 200

    ticket_services.tickets_merge(target=target, sources=[source], actor=make_user("agent"))
    response = client.get(url)

    assert response.status_code == 410
    html = response.content.decode()
    assert "merged into another one" in html and "Duplicate question" not in html
    assert client.post(url, {"body": "Still there?"}).status_code == 410
    assert not source.messages.exists()


def test_a_deleted_tickets_link_is_refused(client):
    ticket = TicketFactory()
    url = reverse("help_center:request_status", args=[help_selectors.request_token(ticket)])
    ticket.delete()

    response = client.get(url)

    assert response.status_code == 404 and "This link is not valid" in response.content.decode()


def test_an_unstamped_link_never_expires_so_it_is_refused(client):
    """Links made before they carried a timestamp (no expiry) no longer open anything."""
    ticket = TicketFactory()
    salt = f"{help_selectors.TOKEN_SALT}:{connection.schema_name}"
    unstamped = signing.Signer(salt=salt).sign_object([ticket.pk, ticket.requester_id])

    assert client.get(reverse("help_center:request_status", args=[unstamped])).status_code == 404
