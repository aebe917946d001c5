"""Report schedule pages and the trend report's PDF: who may schedule to whom, send now, the PDF preview."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import UserFactory
from insights.models import ReportSchedule
from insights.tests.factories import ReportScheduleFactory

pytestmark = pytest.mark.django_db


def _form(*people, **fields) -> dict:
    return {"dashboard": "support", "frequency": "weekly", "period": "", "format": "html",
            "recipients": [person.pk for person in people], "enabled": "on"} | fields  # fmt: skip


def test_anyone_who_sees_insights_schedules_a_report_to_themselves(client, login):
    agent = login("agent")
    page = client.get(reverse("insights:report_schedule_create"))
    assert page.status_code == 200 and b"Support lead (preset)" in page.content
    response = client.post(reverse("insights:report_schedule_create"), _form(agent, name="My Monday"))
    assert response.status_code == 302
    schedule = ReportSchedule.objects.get(owner=agent)
    assert (schedule.preset, schedule.name, list(schedule.recipients.all())) == ("support", "My Monday", [agent])
    listing = client.get(reverse("insights:report_schedule_list"))
    assert b"My Monday" in listing.content and b"Weekly (Mondays)" in listing.content


def test_scheduling_to_other_people_needs_insights_management(client, login):
    colleague = UserFactory(role=Role.SALES)
    agent = login("agent")
    response = client.post(reverse("insights:report_schedule_create"), _form(agent, colleague))
    assert response.status_code == 400
    assert not ReportSchedule.objects.exists()
    admin = login("admin")
    response = client.post(reverse("insights:report_schedule_create"), _form(admin, colleague))
    assert response.status_code == 302
    assert set(ReportSchedule.objects.get().recipients.all()) == {admin, colleague}


def test_bad_input_is_refused_with_a_clear_message(client, login):
    viewer = UserFactory(role=Role.VIEWER)
    admin = login("admin")
    bad = [
        (_form(admin, dashboard="9999"), b"Select a valid choice. 9999 is not one of the available choices."),
        (_form(admin, frequency="hourly"), b"Select a valid choice."),
        (_form(), b"This field is required."),
        (_form(admin, viewer), b"Select a valid choice."),  # not offered: no insights.view
    ]
    for data, message in bad:
        response = client.post(reverse("insights:report_schedule_create"), data)
        assert response.status_code == 400 and message in response.content, data
    assert not ReportSchedule.objects.exists()


def test_a_private_dashboard_goes_only_to_its_owner(client, login):
    from insights.services import dashboard_create

    colleague = UserFactory(role=Role.AGENT)
    theirs = dashboard_create(owner=colleague, name="Theirs")
    admin = login("admin")
    mine = dashboard_create(owner=admin, name="Mine")
    response = client.post(reverse("insights:report_schedule_create"), _form(admin, dashboard=str(theirs.pk)))
    assert response.status_code == 400  # not offered: the admin does not see it
    response = client.post(reverse("insights:report_schedule_create"), _form(admin, colleague, dashboard=str(mine.pk)))
    assert response.status_code == 400 and b"Share the dashboard first" in response.content
    response = client.post(reverse("insights:report_schedule_create"), _form(admin, dashboard=str(mine.pk)))
    assert response.status_code == 302


def test_people_change_only_their_own_schedules_unless_they_manage_insights(client, login):
    theirs = ReportScheduleFactory()
    agent = login("agent")
    mine = ReportScheduleFactory(owner=agent, recipients=[agent])
    assert client.get(reverse("insights:report_schedule_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("insights:report_schedule_delete", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("insights:report_schedule_edit", args=[mine.pk]), _form(agent, frequency="daily"))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.frequency == "daily"
    assert client.post(reverse("insights:report_schedule_delete", args=[mine.pk])).status_code == 302
    assert not ReportSchedule.objects.filter(pk=mine.pk).exists()
    login("admin")
    assert client.get(reverse("insights:report_schedule_edit", args=[theirs.pk])).status_code == 200


def test_the_list_shows_what_you_made_and_what_you_receive_not_the_rest(client, login):
    agent = UserFactory(role=Role.AGENT)
    ReportScheduleFactory(name="Received", recipients=[agent])
    ReportScheduleFactory(name="Not mine")
    client.force_login(agent)
    listing = client.get(reverse("insights:report_schedule_list")).content
    assert b"Received" in listing and b"Not mine" not in listing
    assert b"schedule-delete" not in listing  # receiving is not changing


def test_send_now_queues_the_report_to_you_or_to_its_recipients(client, login):
    colleague = UserFactory(role=Role.SALES, email="colleague@example.test")
    schedule = ReportScheduleFactory(recipients=[colleague], format="pdf")
    agent = login("agent", email="agent@example.test")
    ReportSchedule.recipients.through.objects.create(reportschedule=schedule, user=agent)
    response = client.post(
        reverse("insights:report_schedule_send", args=[schedule.pk]), {"to": "me"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and b"on its way to agent@example.test" in response.content  # the toast
    assert [message.to for message in mail.outbox] == [["agent@example.test"]]
    assert (
        client.post(reverse("insights:report_schedule_send", args=[schedule.pk]), {"to": "recipients"}).status_code
        == 403
    )
    assert client.post(reverse("insights:report_schedule_send", args=[schedule.pk]), {"to": "all"}).status_code == 400
    login("admin")
    assert (
        client.post(reverse("insights:report_schedule_send", args=[schedule.pk]), {"to": "recipients"}).status_code
        == 302
    )
    assert sorted(message.to[0] for message in mail.outbox[1:]) == ["agent@example.test", "colleague@example.test"]
    schedule.refresh_from_db()
    assert schedule.last_sent_at is None  # the rhythm is the schedule's own


def test_the_preview_is_a_pdf_download(client, login):
    schedule = ReportScheduleFactory()
    login("admin")
    response = client.get(reverse("insights:report_schedule_preview", args=[schedule.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="support-lead-')
    assert response.content.startswith(b"%PDF")


def test_people_without_insights_are_refused(client, login):
    schedule = ReportScheduleFactory()
    login("viewer")
    for url in (
        reverse("insights:report_schedule_list"),
        reverse("insights:report_schedule_preview", args=[schedule.pk]),
        reverse("insights:trend_report_pdf"),
    ):
        assert client.get(url).status_code == 403


def test_the_trend_report_page_offers_its_pdf(client, login):
    login("sales")
    page = client.get(reverse("insights:trend_report"))
    assert reverse("insights:trend_report_pdf").encode() in page.content
    response = client.get(reverse("insights:trend_report_pdf"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith('attachment; filename="trend-report-')
