"""notify(): fan-out to in-app rows and deliveries by preference, dedupe, the actor left out, rollbacks, quiet hours,
digests, retries and delivery statuses."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import Delivery, Dispatch, Notification
from notifications.tests.conftest import LOW_EVENT, TEST_EVENT

pytestmark = pytest.mark.django_db

CONTEXT = {"thing": {"name": "Boiler"}}


def test_notify_makes_in_app_rows_and_emails_for_each_recipient(make_user, fan_out):
    ann, bob = make_user(), make_user()
    fan_out(recipients=[ann.pk, bob.pk], event=TEST_EVENT, context=CONTEXT, link="/tickets/1/")
    rows = Notification.objects.filter(user__in=[ann, bob])
    assert sorted(row.user_id for row in rows) == sorted([ann.pk, bob.pk])
    assert {row.title for row in rows} == {"Boiler happened"}
    assert sorted(message.to[0] for message in mail.outbox) == sorted([ann.email, bob.email])
    assert mail.outbox[0].subject == "Boiler happened"
    statuses = set(Delivery.objects.filter(user__in=[ann, bob]).values_list("channel", "status"))
    assert statuses == {("in_app", "delivered"), ("email", "sent")}


def test_preference_muting_email_keeps_in_app(make_user, fan_out):
    ann = make_user()
    services.preferences_save(user_id=ann.pk, choices={(TEST_EVENT, "in_app"): True, (TEST_EVENT, "email"): False})
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    assert Notification.objects.filter(user=ann).count() == 1
    assert mail.outbox == []
    assert not Delivery.objects.filter(user=ann, channel="email").exists()


def test_workspace_default_applies_unless_the_person_chose(make_user, fan_out):
    ann, bob = make_user(), make_user()
    services.preferences_save(user_id=None, choices={(TEST_EVENT, "email"): False, (TEST_EVENT, "in_app"): True})
    services.preferences_save(user_id=bob.pk, choices={(TEST_EVENT, "email"): True, (TEST_EVENT, "in_app"): True})
    fan_out(recipients=[ann.pk, bob.pk], event=TEST_EVENT, context=CONTEXT)
    assert [message.to[0] for message in mail.outbox] == [bob.email]


def test_actor_is_never_notified(make_user, fan_out):
    ann, bob = make_user(), make_user()
    fan_out(recipients=[ann.pk, bob.pk], event=TEST_EVENT, context=CONTEXT, actor_id=ann.pk)
    assert list(Notification.objects.filter(user__in=[ann, bob]).values_list("user_id", flat=True)) == [bob.pk]


def test_dedupe_key_makes_a_repeat_a_no_op(make_user, fan_out):
    ann = make_user()
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT, dedupe_key="sla:1:warning")
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT, dedupe_key="sla:1:warning")
    assert Notification.objects.filter(user=ann).count() == 1
    assert len(mail.outbox) == 1


def test_rolled_back_transaction_notifies_no_one(make_user, django_capture_on_commit_callbacks):
    from notifications.facade import notify

    ann = make_user()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        notify(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
        raise RuntimeError("rolled back")
    assert not Dispatch.objects.filter(recipient_ids__contains=[ann.pk]).exists()
    assert not Notification.objects.filter(user=ann).exists()


def test_unknown_event_is_refused(make_user):
    with pytest.raises(services.NotifyError):
        services.notify(recipients=[make_user().pk], event="nope", context={})


def test_inactive_recipients_are_skipped(make_user, fan_out):
    gone = make_user(is_active=False)
    fan_out(recipients=[gone.pk], event=TEST_EVENT, context=CONTEXT)
    assert not Notification.objects.filter(user=gone).exists()


def test_template_values_are_substituted_never_executed(make_user, fan_out):
    ann = make_user()
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context={"thing": {"name": "{% debug %}{{ settings.SECRET_KEY }}"}})
    assert Notification.objects.get(user=ann).title == "{% debug %}{{ settings.SECRET_KEY }} happened"


def test_workspace_template_override_and_reset(make_user, fan_out):
    ann = make_user()
    services.template_save(event=TEST_EVENT, channel="in_app", subject="Custom: {{ thing.name }}", body="")
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    services.template_reset(event=TEST_EVENT, channel="in_app")
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    titles = list(Notification.objects.filter(user=ann).order_by("id").values_list("title", flat=True))
    assert titles == ["Custom: Boiler", "Boiler happened"]


# --- quiet hours --------------------------------------------------------------------------------------


def _in_quiet_hours(ann) -> datetime:
    """Quiet hours around "now" in UTC, whatever time the test runs."""
    now = timezone.now()
    start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    services.delivery_settings_save(user_id=ann.pk, timezone="UTC", quiet_start=start, quiet_end=end)
    return now


def test_quiet_hours_hold_email_but_not_in_app(make_user, fan_out):
    ann = make_user()
    now = _in_quiet_hours(ann)
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    assert Notification.objects.filter(user=ann).count() == 1
    assert mail.outbox == []
    held = Delivery.objects.get(user=ann, channel="email")
    assert held.status == "queued" and held.not_before > now
    assert services.deliveries_due_send(now=held.not_before - timedelta(minutes=1)) == 0
    assert services.deliveries_due_send(now=held.not_before + timedelta(seconds=1)) == 1
    assert Delivery.objects.get(pk=held.pk).status == "sent"
    assert len(mail.outbox) == 1


def test_high_priority_ignores_quiet_hours(make_user, fan_out):
    ann = make_user()
    _in_quiet_hours(ann)
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT, priority="high")
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("start", "end", "clock", "ends"),
    [
        (time(22), time(7), datetime(2026, 3, 2, 23, 30, tzinfo=UTC), datetime(2026, 3, 3, 7, tzinfo=UTC)),
        (time(22), time(7), datetime(2026, 3, 2, 6, 0, tzinfo=UTC), datetime(2026, 3, 2, 7, tzinfo=UTC)),
        (time(22), time(7), datetime(2026, 3, 2, 12, 0, tzinfo=UTC), None),
        (time(12), time(13), datetime(2026, 3, 2, 12, 30, tzinfo=UTC), datetime(2026, 3, 2, 13, tzinfo=UTC)),
    ],
)
def test_quiet_until_handles_windows_across_midnight(start, end, clock, ends):
    from notifications.preferences import PersonSettings, quiet_until

    assert quiet_until(PersonSettings(timezone="UTC", quiet_start=start, quiet_end=end), clock) == ends


def test_quiet_hours_are_read_in_the_persons_time_zone():
    from notifications.preferences import PersonSettings, quiet_until

    person = PersonSettings(timezone="Asia/Tokyo", quiet_start=time(22), quiet_end=time(7))
    # 14:00 UTC is 23:00 in Tokyo: quiet until 07:00 Tokyo, 22:00 UTC.
    assert quiet_until(person, datetime(2026, 3, 2, 14, tzinfo=UTC)) == datetime(2026, 3, 2, 22, tzinfo=UTC)


# --- digests ------------------------------------------------------------------------------------------


def test_low_priority_events_are_batched_into_one_hourly_digest(make_user, fan_out):
    ann = make_user()
    services.delivery_settings_save(user_id=ann.pk, digest="hourly")
    for name in ("Stapler", "Pen", "Clip"):
        fan_out(recipients=[ann.pk], event=LOW_EVENT, context={"thing": {"name": name}})
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)  # normal priority: on its own
    assert [message.subject for message in mail.outbox] == ["Boiler happened"]
    assert Notification.objects.filter(user=ann).count() == 4  # in-app is never held
    assert services.digests_send() == 1
    digest = mail.outbox[-1]
    assert digest.subject.startswith("3 notifications")
    assert "Stapler minor" in digest.body and "Clip minor" in digest.body
    assert set(
        Delivery.objects.filter(user=ann, event=LOW_EVENT, channel="email").values_list("status", flat=True)
    ) == {"sent"}
    assert services.digests_send() == 0


def test_daily_digest_waits_for_its_hour(make_user, fan_out):
    ann = make_user()
    services.delivery_settings_save(user_id=ann.pk, digest="daily", timezone="UTC")
    fan_out(recipients=[ann.pk], event=LOW_EVENT, context=CONTEXT)
    created = Delivery.objects.get(user=ann, channel="email").created
    not_yet = created.replace(hour=(services.DIGEST_DAILY_HOUR + 3) % 24)
    if not_yet < created:
        not_yet += timedelta(days=1)
    if not_yet - created >= timedelta(days=1):
        not_yet -= timedelta(hours=1)
    assert services.digests_send(now=not_yet) == 0
    at_hour = (created + timedelta(days=1)).replace(hour=services.DIGEST_DAILY_HOUR, minute=0)
    assert services.digests_send(now=at_hour) == 1


# --- retries and statuses -------------------------------------------------------------------------------


def test_failed_email_is_retried_with_backoff_then_sent(make_user, fan_out, monkeypatch):
    from notifications import senders

    ann = make_user()
    real = senders.email_send
    monkeypatch.setattr(senders, "email_send", lambda delivery: (_ for _ in ()).throw(OSError("SMTP down")))
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    delivery = Delivery.objects.get(user=ann, channel="email")
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    assert "SMTP down" in delivery.last_error
    first_retry = delivery.not_before
    monkeypatch.setattr(senders, "email_send", real)
    assert services.deliveries_due_send(now=first_retry - timedelta(seconds=1)) == 0
    assert services.deliveries_due_send(now=first_retry) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert len(mail.outbox) == 1


def test_delivery_fails_after_max_attempts(make_user, fan_out, monkeypatch):
    from notifications import senders

    ann = make_user()
    monkeypatch.setattr(senders, "email_send", lambda delivery: (_ for _ in ()).throw(OSError("SMTP down")))
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    delivery = Delivery.objects.get(user=ann, channel="email")
    waits = []
    while delivery.status == "queued":
        waits.append(delivery.not_before)
        services.delivery_send(delivery.pk, now=delivery.not_before)
        delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == services.MAX_ATTEMPTS
    gaps = [later - earlier for earlier, later in itertools.pairwise(waits)]
    assert all(b > a for a, b in itertools.pairwise(gaps))  # backoff grows


def test_reading_marks_delivery_read(make_user, fan_out):
    ann = make_user()
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    notification = Notification.objects.get(user=ann)
    services.notification_mark_read(user=ann, notification_id=notification.pk)
    assert Delivery.objects.get(user=ann, channel="in_app").status == "read"
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    assert services.notifications_mark_all_read(user=ann) == 1
    assert not Notification.objects.unread().filter(user=ann).exists()


def test_someone_else_cannot_mark_my_notification(make_user, fan_out):
    ann, bob = make_user(), make_user()
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    notification = Notification.objects.get(user=ann)
    assert services.notification_mark_read(user=bob, notification_id=notification.pk) is None
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_sms_without_a_number_is_failed_for_admins_to_see(make_user, fan_out):
    ann = make_user()
    services.preferences_save(user_id=ann.pk, choices={(TEST_EVENT, "sms"): True, (TEST_EVENT, "in_app"): True})
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    sms = Delivery.objects.get(user=ann, channel="sms")
    assert sms.status == "failed" and "mobile number" in sms.last_error


def test_fan_out_to_many_uses_a_fixed_number_of_queries(make_user, django_assert_max_num_queries):
    people = [make_user() for _ in range(30)]
    services.preferences_save(user_id=people[0].pk, choices={(TEST_EVENT, "in_app"): True})
    dispatch = Dispatch.objects.create(event=TEST_EVENT, recipient_ids=[p.pk for p in people], context=CONTEXT)
    with django_assert_max_num_queries(14):
        assert services.dispatch_fan_out(dispatch.pk) == 60  # in app + email each
