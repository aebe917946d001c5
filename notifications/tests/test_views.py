"""The centre, the bell, preferences, push subscription and the admin pages: who may see them and what they do."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from notifications import services
from notifications.models import Delivery, Notification, NotificationTemplate, Preference, PushSubscription
from notifications.tests.conftest import TEST_EVENT

pytestmark = pytest.mark.django_db
CONTEXT = {"thing": {"name": "Boiler"}}


def test_centre_lists_my_notifications_and_filters_unread(client, login, make_user, fan_out):
    me = login("agent")
    other = make_user()
    fan_out(recipients=[me.pk, other.pk], event=TEST_EVENT, context=CONTEXT, link="/tickets/")
    fan_out(recipients=[me.pk], event=TEST_EVENT, context={"thing": {"name": "Kettle"}})
    services.notification_mark_read(user=me, notification_id=Notification.objects.filter(user=me).earliest("id").pk)
    page = client.get(reverse("notifications:centre")).content.decode()
    assert "Boiler happened" in page and "Kettle happened" in page
    unread = client.get(reverse("notifications:centre"), {"show": "unread"}).content.decode()
    assert "Kettle happened" in unread and "Boiler happened" not in unread


def test_centre_paginates_with_a_cursor(client, login):
    me = login("agent")
    Notification.objects.bulk_create([Notification(user=me, event=TEST_EVENT, title=f"n{i:03}") for i in range(60)])
    first = client.get(reverse("notifications:centre"))
    assert first.context["page"].next_cursor
    second = client.get(reverse("notifications:centre"), {"cursor": first.context["page"].next_cursor})
    assert {n.pk for n in first.context["page"].items}.isdisjoint({n.pk for n in second.context["page"].items})


def test_centre_empty_state(client, login):
    login("viewer")
    assert b"notifications-empty" in client.get(reverse("notifications:centre")).content


def test_centre_reads_in_a_fixed_number_of_queries(client, login, django_assert_max_num_queries):
    me = login("agent")
    Notification.objects.bulk_create([Notification(user=me, event=TEST_EVENT, title=f"n{i}") for i in range(80)])
    with django_assert_max_num_queries(12):
        client.get(reverse("notifications:centre"))


def test_bell_counts_unread(client, login, fan_out):
    me = login("agent")
    fan_out(recipients=[me.pk], event=TEST_EVENT, context=CONTEXT)
    response = client.get(reverse("notifications:bell"))
    assert b'data-count="1"' in response.content


def test_open_marks_read_and_goes_to_the_link(client, login, fan_out):
    me = login("agent")
    fan_out(recipients=[me.pk], event=TEST_EVENT, context=CONTEXT, link="/tickets/")
    notification = Notification.objects.get(user=me)
    response = client.post(reverse("notifications:open"), {"id": notification.pk})
    assert response.status_code == 302 and response["Location"] == "/tickets/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_cannot_open_someone_elses_notification(client, login, make_user, fan_out):
    login("agent")
    other = make_user()
    fan_out(recipients=[other.pk], event=TEST_EVENT, context=CONTEXT)
    notification = Notification.objects.get(user=other)
    assert client.post(reverse("notifications:open"), {"id": notification.pk}).status_code == 404


def test_mark_all_read(client, login, fan_out):
    me = login("agent")
    fan_out(recipients=[me.pk], event=TEST_EVENT, context=CONTEXT)
    client.post(reverse("notifications:read_all"))
    assert not Notification.objects.unread().filter(user=me).exists()


def test_preferences_page_saves_the_grid_and_quiet_hours(client, login):
    me = login("agent")
    page = client.get(reverse("notifications:preferences"))
    assert page.status_code == 200 and f"pref:{TEST_EVENT}:email".encode() in page.content
    response = client.post(
        reverse("notifications:preferences"),
        {f"pref:{TEST_EVENT}:in_app": "on", "quiet_start": "22:00", "quiet_end": "07:00", "timezone": "Europe/Berlin"},
    )
    assert response.status_code == 302
    assert Preference.objects.get(user=me, event=TEST_EVENT, channel="email").enabled is False
    assert Preference.objects.get(user=me, event=TEST_EVENT, channel="in_app").enabled is True


def test_preferences_refuse_half_quiet_hours_and_bad_zone(client, login):
    login("agent")
    response = client.post(reverse("notifications:preferences"), {"quiet_start": "22:00", "timezone": "Mars/Base"})
    assert response.status_code == 400


def test_push_subscribe_and_unsubscribe(client, login):
    me = login("agent")
    subscription = {"endpoint": "https://push.example.test/abc", "keys": {"p256dh": "BPx", "auth": "xyz"}}
    response = client.post(
        reverse("notifications:push_subscribe"), json.dumps(subscription), content_type="application/json"
    )
    assert response.status_code == 200
    assert PushSubscription.objects.get(user=me).endpoint == subscription["endpoint"]
    client.post(reverse("notifications:push_unsubscribe"), json.dumps(subscription), content_type="application/json")
    assert not PushSubscription.objects.filter(user=me).exists()


def test_push_subscribe_refuses_garbage(client, login):
    login("agent")
    response = client.post(reverse("notifications:push_subscribe"), "nope", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("name", ["defaults", "deliveries", "template_list"])
def test_admin_pages_are_for_admins_only(client, login, name):
    login("agent")
    assert client.get(reverse(f"notifications:{name}")).status_code == 403


def test_delivery_log_filters_by_status_and_channel(client, login, make_user, fan_out):
    login("admin")
    ann = make_user()
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    response = client.get(reverse("notifications:deliveries"), {"channel": "email", "status": "sent"})
    rows = response.context["page"].items
    assert rows and all(row.channel == "email" and row.status == "sent" for row in rows)
    assert Delivery.objects.filter(user=ann).count() == 2


def test_workspace_defaults_are_saved_without_a_user(client, login):
    login("admin")
    response = client.post(reverse("notifications:defaults"), {f"pref:{TEST_EVENT}:in_app": "on", "digest": "daily"})
    assert response.status_code == 302
    assert Preference.objects.get(user__isnull=True, event=TEST_EVENT, channel="email").enabled is False


def test_template_editor_previews_saves_refuses_unknown_and_resets(client, login):
    login("admin")
    url = reverse("notifications:template_edit", args=[TEST_EVENT, "email"])
    assert client.get(url).status_code == 200
    preview = client.post(
        reverse("notifications:template_preview", args=[TEST_EVENT, "email"]),
        {"subject": "Hi {{ thing.name }}", "body": ""},
    )
    assert b"Hi Printer" in preview.content  # the sample context
    refused = client.post(url, {"subject": "{{ thing.secret }} {% load x %}", "body": ""})
    assert refused.status_code == 400 and not NotificationTemplate.objects.exists()
    assert client.post(url, {"subject": "Hi {{ thing.name }}", "body": "b"}).status_code == 302
    assert NotificationTemplate.objects.get(event=TEST_EVENT, channel="email").subject == "Hi {{ thing.name }}"
    client.post(reverse("notifications:template_reset", args=[TEST_EVENT, "email"]))
    assert not NotificationTemplate.objects.exists()


def test_every_page_shows_the_bell(client, login):
    login("agent")
    assert b'data-testid="notification-bell"' in client.get(reverse("notifications:centre")).content
