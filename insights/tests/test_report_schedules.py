"""Scheduled dashboard reports: when they are due, what they cover, that a period's report goes out once, to whom,
and what the email carries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from accounts.models import Role
from accounts.tests.factories import UserFactory
from insights import report_email, tasks
from insights.contracts import MetricFilters
from insights.dashboards import PRESETS, dashboard_panels
from insights.models import ReportSchedule
from insights.schedules import next_due_after, report_period, report_schedule_create
from insights.tests.factories import ReportScheduleFactory

PARIS, TOKYO, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
# Monday 7 December 2026, 07:05 in UTC (the workspace's zone in tests): a weekly report is due.
MONDAY = datetime(2026, 12, 7, 7, 5, tzinfo=UTC)
WEEK = MetricFilters(date(2026, 11, 30), date(2026, 12, 6))


def _charts_with_data() -> int:
    """The support preset's charts that have something to draw this week: one image each (the others say so)."""
    panels = dashboard_panels(PRESETS["support"], WEEK)
    return sum(panel.data.kind in ("trend", "bar", "funnel") and bool(panel.data.labels) for panel in panels)


def _at(zone, *parts) -> datetime:
    return datetime(*parts, tzinfo=zone)


# --- when ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "moment", "due"),
    [
        ("daily", (2026, 1, 31, 6, 59), (2026, 1, 31, 7, 0)),
        ("daily", (2026, 1, 31, 7, 0), (2026, 2, 1, 7, 0)),  # the slot itself is past: the next one
        ("daily", (2026, 12, 31, 23, 0), (2027, 1, 1, 7, 0)),
        ("weekly", (2026, 12, 2, 12, 0), (2026, 12, 7, 7, 0)),  # a Wednesday: the next Monday
        ("weekly", (2026, 12, 7, 6, 0), (2026, 12, 7, 7, 0)),  # Monday before 07:00: today
        ("weekly", (2026, 12, 28, 9, 0), (2027, 1, 4, 7, 0)),  # across the year's end
        ("monthly", (2026, 1, 31, 8, 0), (2026, 2, 1, 7, 0)),
        ("monthly", (2026, 2, 1, 7, 0), (2026, 3, 1, 7, 0)),
        ("monthly", (2027, 2, 28, 7, 30), (2027, 3, 1, 7, 0)),
        ("monthly", (2026, 12, 15, 0, 0), (2027, 1, 1, 7, 0)),
    ],
)
def test_reports_are_due_at_seven_on_the_next_day_monday_or_first_of_the_month(frequency, moment, due):
    assert next_due_after(frequency, _at(PARIS, *moment), zone=PARIS) == _at(PARIS, *due)


def test_seven_oclock_is_the_workspaces_own_across_zones_and_summer_time():
    moment = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert next_due_after("daily", moment, zone=TOKYO) == datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # 29th, 07:00 JST
    assert next_due_after("daily", moment, zone=NEW_YORK) == datetime(2026, 3, 29, 11, 0, tzinfo=UTC)  # EDT
    # Paris moves to summer time in the night of the 29th: 07:00 is 06:00 UTC on the 28th, 05:00 UTC on the 29th.
    assert next_due_after("daily", datetime(2026, 3, 28, 5, 0, tzinfo=UTC), zone=PARIS) == datetime(
        2026, 3, 28, 6, 0, tzinfo=UTC
    )
    assert next_due_after("daily", moment, zone=PARIS) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)


def test_the_period_a_report_covers_ends_the_day_before_it_is_sent():
    def period(frequency: str, today: date, custom: str = "") -> tuple[date, date]:
        return report_period(ReportSchedule(frequency=frequency, period=custom), today=today)

    assert period("daily", date(2026, 3, 1)) == (date(2026, 2, 28), date(2026, 2, 28))
    assert period("weekly", date(2026, 12, 7)) == (date(2026, 11, 30), date(2026, 12, 6))
    assert period("monthly", date(2027, 1, 1)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert period("monthly", date(2024, 3, 1)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert period("weekly", date(2026, 12, 7), "30d") == (date(2026, 11, 7), date(2026, 12, 6))


# --- sending ------------------------------------------------------------------------------------------------------


@pytest.fixture
def agent(db):
    return UserFactory(role=Role.AGENT, email="agent@example.test")


def test_a_due_report_goes_out_once_per_period_however_often_the_task_runs(agent):
    schedule = ReportScheduleFactory(recipients=[agent], next_due=MONDAY - timedelta(minutes=5))
    assert report_email.report_schedules_send_due(now=MONDAY) == 1
    assert report_email.report_schedules_send_due(now=MONDAY) == 0
    assert report_email.report_schedules_send_due(now=MONDAY + timedelta(minutes=15)) == 0
    assert len(mail.outbox) == 1
    schedule.refresh_from_db()
    assert schedule.last_sent_at == MONDAY
    assert schedule.next_due == datetime(2026, 12, 14, 7, 0, tzinfo=UTC)
    # A week later it is due again.
    assert report_email.report_schedules_send_due(now=schedule.next_due) == 1
    assert len(mail.outbox) == 2


def test_a_schedule_not_yet_due_or_paused_is_not_claimed(agent):
    schedule = ReportScheduleFactory(recipients=[agent], next_due=MONDAY)
    assert report_email.report_schedule_send_due(schedule_id=schedule.pk, now=MONDAY - timedelta(seconds=1)) is False
    ReportSchedule.objects.filter(pk=schedule.pk).update(enabled=False)
    assert report_email.report_schedule_send_due(schedule_id=schedule.pk, now=MONDAY) is False
    assert mail.outbox == []


def test_only_active_people_who_still_see_insights_receive_it(agent):
    gone = UserFactory(role=Role.AGENT, is_active=False)
    demoted = UserFactory(role=Role.VIEWER)
    ReportScheduleFactory(recipients=[agent, gone, demoted], next_due=MONDAY)
    assert report_email.report_schedules_send_due(now=MONDAY) == 1
    assert [message.to for message in mail.outbox] == [["agent@example.test"]]


def test_a_dashboard_made_private_again_stops_its_report_reaching_the_others(agent):
    from insights.services import dashboard_create, dashboard_update

    owner = UserFactory(role=Role.ADMIN, email="owner@example.test")
    dashboard = dashboard_create(owner=owner, name="Team", shared=True)
    schedule = report_schedule_create(
        actor=owner, dashboard=str(dashboard.pk), frequency="daily", fmt="html", recipients=[owner, agent]
    )
    dashboard_update(dashboard=dashboard, name="Team", shared=False)
    ReportSchedule.objects.filter(pk=schedule.pk).update(next_due=MONDAY)
    assert report_email.report_schedules_send_due(now=MONDAY) == 1
    assert [message.to for message in mail.outbox] == [["owner@example.test"]]
    assert set(schedule.recipients.all()) == {owner, agent}  # shared again, it reaches the agent again


def test_a_failing_send_is_retried_next_run_and_does_not_stop_the_others(agent, monkeypatch):
    failing = ReportScheduleFactory(recipients=[agent], next_due=MONDAY, preset="sales")
    fine = ReportScheduleFactory(recipients=[agent], next_due=MONDAY, preset="owner")
    real_send = report_email.templated_email_send

    def send(prefix, to, context, **kwargs):
        if context["schedule"].pk == failing.pk:
            raise ConnectionError("SMTP server went away")
        return real_send(prefix, to, context, **kwargs)

    monkeypatch.setattr(report_email, "templated_email_send", send)
    assert report_email.report_schedules_send_due(now=MONDAY) == 1
    failing.refresh_from_db()
    fine.refresh_from_db()
    assert failing.next_due == MONDAY and failing.last_sent_at is None
    assert "SMTP server went away" in failing.last_error
    assert fine.next_due > MONDAY and fine.last_error == ""
    monkeypatch.setattr(report_email, "templated_email_send", real_send)
    assert report_email.report_schedules_send_due(now=MONDAY + timedelta(minutes=15)) == 1
    failing.refresh_from_db()
    assert failing.last_error == "" and failing.last_sent_at == MONDAY + timedelta(minutes=15)


def test_the_beat_task_sends_due_reports_of_the_workspace(agent, monkeypatch):
    ReportScheduleFactory(recipients=[agent], next_due=datetime(2020, 1, 6, 7, 0, tzinfo=UTC))
    assert tasks.report_schedules_send_task() == 1
    assert len(mail.outbox) == 1


# --- the email ----------------------------------------------------------------------------------------------------


def _parts(message) -> dict[str, list]:
    found: dict[str, list] = {}
    for part in message.message().walk():
        found.setdefault(part.get_content_type(), []).append(part)
    return found


def test_the_html_email_shows_each_chart_inline_and_links_to_the_dashboard_for_the_period(agent):
    ReportScheduleFactory(recipients=[agent], next_due=MONDAY, format="html", name="Support ] #weekly")
    report_email.report_schedules_send_due(now=MONDAY)
    message = mail.outbox[0]
    parts = _parts(message)
    assert message.subject == "Support ] #weekly, 30 Nov 2026 – 6 Dec 2026"
    assert len(parts["text/plain"]) == 1 and "Tickets created" in message.body
    html = parts["text/html"][0].get_payload(decode=True).decode()
    images = parts["image/png"]
    assert 0 < len(images) == _charts_with_data()
    for image in images:
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        assert image.get_payload(decode=True).startswith(b"\x89PNG")
    assert "/insights/dashboards/support/?period=custom&amp;start=2026-11-30&amp;end=2026-12-06" in html
    assert "application/pdf" not in parts
    assert "SLA breaches by team: nothing in this period" in message.body  # an empty table says so


def test_the_pdf_format_attaches_the_report_and_both_carries_both(agent):
    pdf_only = ReportScheduleFactory(recipients=[agent], next_due=MONDAY, format="pdf")
    report_email.report_schedules_send_due(now=MONDAY)
    parts = _parts(mail.outbox[0])
    assert "image/png" not in parts
    attachment = parts["application/pdf"][0]
    assert attachment.get_filename() == "support-lead-2026-11-30-2026-12-06.pdf"
    assert attachment.get_payload(decode=True).startswith(b"%PDF")
    assert "attached" in mail.outbox[0].body
    pdf_only.delete()

    ReportScheduleFactory(recipients=[agent], next_due=MONDAY, format="both", frequency="monthly")
    report_email.report_schedules_send_due(now=datetime(2027, 1, 1, 7, 0, tzinfo=UTC))
    parts = _parts(mail.outbox[1])
    assert len(parts["image/png"]) > 0 and len(parts["application/pdf"]) == 1
    assert mail.outbox[1].subject.endswith("1 Dec 2026 – 31 Dec 2026")


def test_a_custom_dashboard_report_uses_its_widgets_and_its_title(agent):
    from insights.services import dashboard_create, widget_add

    dashboard = dashboard_create(owner=agent, name="My #numbers]")
    widget_add(dashboard=dashboard, key="tickets_created", title='Tickets #panic("x") ]')
    schedule = report_schedule_create(
        actor=agent, dashboard=str(dashboard.pk), frequency="daily", fmt="both", recipients=[agent]
    )
    ReportSchedule.objects.filter(pk=schedule.pk).update(next_due=MONDAY)
    assert report_email.report_schedules_send_due(now=MONDAY) == 1
    message = mail.outbox[0]
    assert message.subject == "My #numbers], 6 Dec 2026"
    assert 'Tickets #panic("x") ]' in message.body
    assert f"/insights/dashboards/{dashboard.pk}/?period=custom" in message.body
    assert "image/png" not in _parts(message)  # a number only: no chart
