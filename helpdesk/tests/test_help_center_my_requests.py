"""“My requests”: a customer signs in by an emailed one-time link (no password, no agent login), sees their own
requests only, and signs out. Links are single-use, short-lived, bound to their workspace and built from its
configured domain."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from customers.tests.factories import ContactFactory
from helpdesk.models import HelpSignInLink, Ticket
from helpdesk.selectors import help_center as help_selectors
from helpdesk.tests.factories import TicketFactory
from helpdesk.views.help_center import HELP_SESSION_KEY

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/help/sign-in/(\S+)/")


def ask(client, email: str, captured):
    with captured(execute=True):
        return client.post(reverse("help_center:sign_in"), {"email": email})


def emailed_token() -> str:
    assert len(mail.outbox) == 1, [message.subject for message in mail.outbox]
    match = LINK.search(mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match.group(1)


def spend(client, token: str):
    return client.post(reverse("help_center:sign_in_open", args=[token]))


def test_the_round_trip_lists_only_the_customers_own_requests(client, tenant, django_capture_on_commit_callbacks):
    jane = ContactFactory(email="jane@acme.test")
    colleague = ContactFactory(email="joe@acme.test", customer=jane.customer)
    mine = TicketFactory(requester=jane, subject="Invoice is wrong", status=Ticket.Status.PENDING)
    TicketFactory(requester=colleague, subject="Colleague's printer")

    response = ask(client, "Jane@Acme.test", django_capture_on_commit_callbacks)

    assert response.status_code == 200 and b"Check your email" in response.content
    assert mail.outbox[0].to == ["jane@acme.test"]
    # Built from the workspace's configured domain, never the Host header.
    assert f"://{tenant.get_primary_domain().domain}" in mail.outbox[0].body
    token = emailed_token()
    opened = client.get(reverse("help_center:sign_in_open", args=[token]))
    assert opened.status_code == 200 and b"jane@acme.test" in opened.content  # opening does not spend it
    assert spend(client, token)["Location"] == reverse("help_center:my_requests")

    page = client.get(reverse("help_center:my_requests"))
    html = page.content.decode()
    assert page.status_code == 200 and "Invoice is wrong" in html and "Awaiting your reply" in html
    assert "Colleague" not in html
    status_url = reverse("help_center:request_status", args=[help_selectors.request_token(mine)])
    assert client.get(status_url).status_code == 200 and status_url.split("/")[-2][:20] in html
    assert "_auth_user_id" not in client.session  # never a Django login


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, django_capture_on_commit_callbacks):
    ContactFactory(email="jane@acme.test")

    known = ask(client, "jane@acme.test", django_capture_on_commit_callbacks)
    unknown = ask(client, "nobody@acme.test", django_capture_on_commit_callbacks)

    def answer(response) -> str:
        html = response.content.decode().replace("jane@acme.test", "X").replace("nobody@acme.test", "X")
        return re.sub(r'"X-CSRFToken": "\w+"', "", html)  # the CSRF token is masked afresh on every page

    assert known.status_code == unknown.status_code == 200
    assert answer(known) == answer(unknown)
    assert len(mail.outbox) == 1 and HelpSignInLink.objects.count() == 1


def test_a_used_link_is_refused_in_words(client, django_capture_on_commit_callbacks):
    ContactFactory(email="jane@acme.test")
    ask(client, "jane@acme.test", django_capture_on_commit_callbacks)
    token = emailed_token()
    spend(client, token)

    again = spend(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), token)

    assert again.status_code == 410 and b"already used" in again.content
    assert client.get(reverse("help_center:sign_in_open", args=[token])).status_code == 410


def test_an_expired_link_is_refused_in_words(client, django_capture_on_commit_callbacks, monkeypatch):
    ContactFactory(email="jane@acme.test")
    stamped = int(time.time() - timedelta(minutes=31).total_seconds())
    with monkeypatch.context() as patch:  # the link was made 31 minutes ago
        patch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(stamped))
        ask(client, "jane@acme.test", django_capture_on_commit_callbacks)
    token = emailed_token()

    response = spend(client, token)

    assert response.status_code == 410 and b"has expired" in response.content
    assert client.get(reverse("help_center:my_requests"))["Location"] == reverse("help_center:sign_in")


def test_another_workspaces_link_is_refused(client, other_tenant):
    with tenant_context(other_tenant):
        secret = "s" * 43
        HelpSignInLink.objects.create(contact=ContactFactory(), digest=help_selectors.sign_in_digest(secret))
        foreign = help_selectors.sign_in_token(secret)

    response = spend(client, foreign)

    assert response.status_code == 404 and b"not valid" in response.content
    assert HELP_SESSION_KEY not in client.session


def test_a_forged_or_truncated_link_is_refused(client):
    secret = "t" * 43
    HelpSignInLink.objects.create(contact=ContactFactory(), digest=help_selectors.sign_in_digest(secret))
    token = help_selectors.sign_in_token(secret)

    for bad in (secret, token[:-2], "x" * 60):
        assert spend(client, bad).status_code == 404


def test_my_requests_needs_a_session_and_sign_out_ends_it(client, django_capture_on_commit_callbacks):
    ContactFactory(email="jane@acme.test")
    assert client.get(reverse("help_center:my_requests"))["Location"] == reverse("help_center:sign_in")
    ask(client, "jane@acme.test", django_capture_on_commit_callbacks)
    spend(client, emailed_token())
    assert client.get(reverse("help_center:my_requests")).status_code == 200

    client.post(reverse("help_center:sign_out"))

    assert client.get(reverse("help_center:my_requests"))["Location"] == reverse("help_center:sign_in")


def test_a_session_from_another_workspace_shows_nothing_here(client):
    session = client.session
    session[HELP_SESSION_KEY] = {"contact": ContactFactory().pk, "schema": "beta", "at": timezone.now().timestamp()}
    session.save()

    assert client.get(reverse("help_center:my_requests")).status_code == 302


def test_sign_in_requests_are_rate_limited(client, monkeypatch, django_capture_on_commit_callbacks):
    from helpdesk.views import help_center as views

    ContactFactory(email="jane@acme.test")
    monkeypatch.setitem(views.LIMITS, "sign_in_email", (2, 3600))
    for _ in range(3):
        assert ask(client, "jane@acme.test", django_capture_on_commit_callbacks).status_code == 200
    assert len(mail.outbox) == 2  # the third gets the same page, and no email

    monkeypatch.setitem(views.LIMITS, "sign_in", (3, 3600))
    limited = ask(client, "jane@acme.test", django_capture_on_commit_callbacks)
    assert limited.status_code == 429 and limited["Retry-After"] == "3600"
