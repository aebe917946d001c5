"""The raw-mail forwarding endpoint, POST /inbox/mail/inbound/<token>/: a signed RFC 822 message is stored
(202 with the record's id), a duplicate is "already received" (200), a bad or stale signature 401, too large 413,
an unknown token 404, and no session or CSRF token is needed."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from inbox.models import InboundEmail, Mailbox
from inbox.services import forwarding
from inbox.services.webhooks import signature_header
from inbox.tests.factories import MailboxFactory, raw_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox() -> tuple[Mailbox, str]:
    box = MailboxFactory(kind=Mailbox.Kind.FORWARD, settings={})
    secret = forwarding.mailbox_forwarding_enable(mailbox=box)
    return box, secret


@pytest.fixture
def strict_client(client) -> Client:
    """The workspace's host, with CSRF checks on (as a real browser-less caller meets them)."""
    strict = Client(enforce_csrf_checks=True, HTTP_HOST=client.defaults["HTTP_HOST"])
    return strict


def url(box: Mailbox) -> str:
    return reverse("inbox:inbound_webhook", kwargs={"token": box.settings[forwarding.TOKEN_KEY]})


def post(client, box, raw: bytes, *, secret: str | None, timestamp: int | None = None, **extra):
    headers = {}
    if secret is not None:
        headers["HTTP_X_SWITCHBOARD_SIGNATURE"] = signature_header(secret, raw, timestamp or int(time.time()))
    return client.post(url(box), raw, content_type="message/rfc822", **headers, **extra)


def test_a_signed_message_is_stored_and_queued(strict_client, mailbox, django_capture_on_commit_callbacks):
    box, secret = mailbox
    with django_capture_on_commit_callbacks(execute=False):
        response = post(strict_client, box, raw_email(message_id="<fw1@x.test>"), secret=secret)
    assert response.status_code == 202, response.content
    record = InboundEmail.objects.get(pk=response.json()["id"])
    assert record.source == "webhook" and record.mailbox == box and record.message_id == "<fw1@x.test>"
    assert "webhook_secret" not in box.settings and box.secrets()["webhook_secret"] == secret


def test_the_same_message_again_is_already_received(strict_client, mailbox, django_capture_on_commit_callbacks):
    box, secret = mailbox
    raw = raw_email(message_id="<fw2@x.test>")
    with django_capture_on_commit_callbacks(execute=False):
        first = post(strict_client, box, raw, secret=secret)
        again = post(strict_client, box, raw, secret=secret)
    assert again.status_code == 200 and again.json() == {"id": first.json()["id"], "status": "already received"}
    assert InboundEmail.objects.count() == 1


@pytest.mark.parametrize("problem", ["missing", "wrong secret", "stale", "tampered"])
def test_a_bad_signature_is_refused_and_nothing_is_stored(strict_client, mailbox, problem):
    box, secret = mailbox
    raw = raw_email(message_id="<fw3@x.test>")
    if problem == "missing":
        response = post(strict_client, box, raw, secret=None)
    elif problem == "wrong secret":
        response = post(strict_client, box, raw, secret="whsec_other")
    elif problem == "stale":
        response = post(strict_client, box, raw, secret=secret, timestamp=int(time.time()) - 600)
    else:
        signature = signature_header(secret, raw, int(time.time()))
        response = strict_client.post(
            url(box), raw + b"X", content_type="message/rfc822", HTTP_X_SWITCHBOARD_SIGNATURE=signature
        )
    assert response.status_code == 401
    assert "signature" in response.json()["error"]["message"]
    assert not InboundEmail.objects.exists()


def test_a_message_over_the_limit_is_refused_with_413(strict_client, mailbox, settings):
    box, secret = mailbox
    settings.INBOX_MAX_MESSAGE_BYTES = 1000
    settings.MAX_REQUEST_BYTES = 500  # the site-wide limit does not apply: the view has its own
    ok = post(strict_client, box, raw_email(message_id="<fw4@x.test>", body="x" * 600), secret=secret)
    assert ok.status_code == 202
    response = post(strict_client, box, raw_email(message_id="<fw5@x.test>", body="x" * 2000), secret=secret)
    assert response.status_code == 413
    assert "the limit is 1,000" in response.json()["error"]["message"]
    assert InboundEmail.objects.count() == 1


def test_unknown_tokens_other_kinds_and_wrong_content_types_are_refused(strict_client, mailbox):
    box, secret = mailbox
    raw = raw_email()
    unknown = strict_client.post(
        reverse("inbox:inbound_webhook", kwargs={"token": "nope"}), raw, content_type="message/rfc822"
    )
    assert unknown.status_code == 404
    assert strict_client.post(url(box), raw, content_type="application/json").status_code == 415
    assert strict_client.get(url(box)).status_code == 405
    Mailbox.objects.filter(pk=box.pk).update(kind=Mailbox.Kind.IMAP)
    assert post(strict_client, box, raw, secret=secret).status_code == 404


def test_the_endpoint_is_rate_limited_per_mailbox(strict_client, mailbox, monkeypatch):
    box, _secret = mailbox
    monkeypatch.setattr(forwarding, "RATE_PER_MINUTE", 2)
    statuses = [post(strict_client, box, b"garbage", secret="whsec_wrong").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_the_endpoint_sets_no_session_cookie(strict_client, mailbox, django_capture_on_commit_callbacks):
    box, secret = mailbox
    with django_capture_on_commit_callbacks(execute=False):
        response = post(strict_client, box, raw_email(message_id="<fw6@x.test>"), secret=secret)
    assert response.status_code == 202 and "sessionid" not in response.cookies
