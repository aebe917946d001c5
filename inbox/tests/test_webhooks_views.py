"""Settings → Channels → Webhooks: create (the secret shown once), edit, refuse a private address in words, the
delivery log, redeliver; owners and admins only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inbox.models import WebhookDelivery, WebhookSubscription
from inbox.tests.factories import WebhookDeliveryFactory, WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db

FORM = {"url": "https://hooks.example.com/in", "description": "CRM", "events": ["ticket.created"], "enabled": "on"}


def test_creating_a_webhook_shows_its_secret_once(client, login):
    login("admin")
    response = client.post(reverse("inbox:webhook_create"), FORM)
    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    secret = subscription.secret()
    assert secret in response.content.decode()
    page = client.get(reverse("inbox:webhook_detail", args=[subscription.pk])).content.decode()
    assert secret not in page and "https://hooks.example.com/in" in page
    assert "CRM" in client.get(reverse("inbox:webhook_list")).content.decode()


def test_a_private_address_is_refused_on_the_form_in_words(client, login, settings):
    settings.EGRESS_ALLOW_LOOPBACK, settings.EGRESS_REQUIRE_HTTPS = False, True
    login("admin")
    response = client.post(reverse("inbox:webhook_create"), FORM | {"url": "https://192.168.0.10/hook"})
    assert response.status_code == 400
    assert "inside a private network" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_editing_turns_it_back_on_with_a_clean_slate(client, login):
    login("admin")
    subscription = WebhookSubscriptionFactory(enabled=False, consecutive_failures=50, disabled_reason="Turned off")
    response = client.post(reverse("inbox:webhook_detail", args=[subscription.pk]), FORM)
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.enabled and subscription.consecutive_failures == 0 and subscription.events == ["ticket.created"]


def test_the_delivery_log_shows_status_http_latency_and_excerpt(client, login):
    login("admin")
    delivery = WebhookDeliveryFactory(
        status="retrying", response_status=502, latency_ms=87, attempts=3, response_excerpt="Bad gateway from nginx"
    )
    page = client.get(reverse("inbox:webhook_detail", args=[delivery.subscription_id])).content.decode()
    for shown in ("Retrying", "502", "87 ms", "Bad gateway from nginx", "Redeliver"):
        assert shown in page


def test_redeliver_queues_a_new_attempt_and_refreshes_the_log(client, login, django_capture_on_commit_callbacks):
    login("admin")
    delivery = WebhookDeliveryFactory(status="failed", attempts=30, subscription__url="http://127.0.0.1:9/none")
    url = reverse("inbox:webhook_redeliver", args=[delivery.pk])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="delivery-log")
    assert response.status_code == 200 and 'id="delivery-log"' in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING and len(queued) == 1


def test_agents_cannot_see_webhooks(client, login):
    login("agent")
    assert client.get(reverse("inbox:webhook_list")).status_code == 403
