"""Lead activity reminders: emailed once to the lead's owner after their time, by a routed and scheduled beat job,
and shown on the lead page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from leads import reminders
from leads.models import LeadActivity
from leads.tasks import activity_reminders_send_task

from .factories import LeadActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_the_reminder_is_emailed_to_the_lead_owner_once_after_its_time(make_user, django_capture_on_commit_callbacks):
    owner = make_user("sales", email="sam@example.test")
    now = timezone.now()
    lead = LeadFactory(title="Acme renewal", owner=owner)
    activity = LeadActivityFactory(lead=lead, subject="Call the buyer", remind_at=now - timedelta(minutes=1))
    LeadActivityFactory(lead=lead, remind_at=now + timedelta(hours=1))  # not yet
    LeadActivityFactory(lead=lead, remind_at=now - timedelta(hours=1), done=True)  # done: no reminder
    LeadActivityFactory(lead=lead, remind_at=None)  # no reminder asked

    with django_capture_on_commit_callbacks(execute=True):
        first = activity_reminders_send_task()
    with django_capture_on_commit_callbacks(execute=True):
        second = activity_reminders_send_task()

    assert (first, second) == (1, 0)
    (email,) = mail.outbox
    assert email.to == ["sam@example.test"]
    assert "Call the buyer" in email.subject and "Acme renewal" in email.subject
    assert f"/leads/{lead.pk}/" in email.body
    assert email.alternatives and "Call the buyer" in email.alternatives[0][0]
    activity.refresh_from_db()
    assert activity.reminded_at is not None


def test_a_lead_without_owner_reminds_whoever_planned_the_activity(make_user, django_capture_on_commit_callbacks):
    author = make_user("sales", email="author@example.test")
    activity = LeadActivityFactory(
        lead=LeadFactory(owner=None), created_by=author, remind_at=timezone.now() - timedelta(minutes=2)
    )

    with django_capture_on_commit_callbacks(execute=True):
        sent = reminders.activity_reminders_send()

    assert sent == 1 and [email.to for email in mail.outbox] == [["author@example.test"]]
    assert LeadActivity.objects.get(pk=activity.pk).reminded_at is not None


def test_nobody_active_to_remind_sends_nothing(make_user, django_capture_on_commit_callbacks):
    gone = make_user("sales", is_active=False)
    LeadActivityFactory(lead=LeadFactory(owner=gone), remind_at=timezone.now() - timedelta(minutes=2))
    LeadActivityFactory(lead=LeadFactory(owner=None), created_by=None, remind_at=timezone.now() - timedelta(minutes=2))

    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.activity_reminders_send() == 0

    assert mail.outbox == []


def test_a_mail_server_error_is_logged_and_the_reminder_not_sent_again(
    make_user, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    LeadActivityFactory(lead=LeadFactory(owner=make_user("sales")), remind_at=timezone.now() - timedelta(minutes=1))

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(reminders, "templated_email_send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.activity_reminders_send() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.activity_reminders_send() == 0

    assert "could not send the reminder" in caplog.text


def test_the_beat_job_is_routed_and_scheduled():
    assert settings.CELERY_TASK_ROUTES["leads.tasks.activity_reminders_send_task"] == {"queue": "default"}
    assert settings.CELERY_TASK_ROUTES["leads.tasks.activity_reminders_fanout_task"] == {"queue": "default"}
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "leads.tasks.activity_reminders_fanout_task" in scheduled


def test_the_lead_page_shows_pending_and_sent_reminders(client, login, django_capture_on_commit_callbacks):
    user = login("sales")
    lead = LeadFactory(owner=user)
    soon = timezone.now() + timedelta(days=1)
    LeadActivityFactory(lead=lead, subject="Later", remind_at=soon)
    LeadActivityFactory(lead=lead, subject="Past", remind_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        reminders.activity_reminders_send()

    html = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()

    assert html.count('data-testid="activity-reminder"') == 1
    assert html.count('data-testid="activity-reminded"') == 1


def test_a_fresh_demo_sends_no_backlog_of_reminders(make_user, django_capture_on_commit_callbacks):
    from customers.tests.factories import ContactFactory
    from leads.demo import seed_leads

    ContactFactory.create_batch(10)
    seed_leads(owners=[make_user("sales")], leads=300, seed=1)
    assert LeadActivity.objects.filter(done=False, remind_at__isnull=False).exists()

    with django_capture_on_commit_callbacks(execute=True):
        sent = reminders.activity_reminders_send()

    assert sent == 0 and mail.outbox == []
