"""Customer satisfaction: a survey email when a ticket is solved, the survey page (answer once, change for a
week), the CSAT event in the ticket's history, and the dashboard summary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from helpdesk.models import HelpdeskSettings, SatisfactionSurvey, Ticket, TicketEvent
from helpdesk.selectors.csat import csat_summary
from helpdesk.services import csat
from helpdesk.services import tickets as ticket_services
from helpdesk.tests.factories import SatisfactionSurveyFactory, TicketFactory

pytestmark = pytest.mark.django_db


def solve(ticket, actor, capture):
    with capture(execute=True):
        ticket_services.ticket_status_set(ticket=ticket, status=Ticket.Status.SOLVED, actor=actor)


# --- Sending ------------------------------------------------------------------------------------


def test_solving_a_ticket_emails_one_survey_after_commit(make_user, django_capture_on_commit_callbacks):
    agent = make_user("agent")
    ticket = TicketFactory(status=Ticket.Status.OPEN, subject="Broken login")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket_services.ticket_status_set(ticket=ticket, status=Ticket.Status.SOLVED, actor=agent)
        assert not mail.outbox  # nothing leaves before the solve commits
    with django_capture_on_commit_callbacks(execute=True):  # the email's delivery is queued after the solve commits
        for callback in callbacks:
            callback()

    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    (email,) = mail.outbox
    assert email.to == [ticket.requester.email] and f"#{ticket.pk}" in email.subject
    assert f"/help/survey/{survey.token}/?rating=5" in email.body


def test_a_ticket_solved_again_is_not_surveyed_twice(make_user, django_capture_on_commit_callbacks):
    agent = make_user("agent")
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    solve(ticket, agent, django_capture_on_commit_callbacks)
    ticket_services.ticket_status_set(ticket=ticket, status=Ticket.Status.OPEN, actor=agent)
    solve(ticket, agent, django_capture_on_commit_callbacks)

    assert SatisfactionSurvey.objects.filter(ticket=ticket).count() == 1 and len(mail.outbox) == 1


def test_no_survey_when_turned_off_or_without_an_address(make_user, django_capture_on_commit_callbacks):
    agent = make_user("agent")
    settings = HelpdeskSettings.current()
    settings.csat_enabled = False
    settings.save()
    solve(TicketFactory(status=Ticket.Status.OPEN), agent, django_capture_on_commit_callbacks)

    settings.csat_enabled = True
    settings.save()
    silent = TicketFactory(status=Ticket.Status.OPEN, requester__email="")
    solve(silent, agent, django_capture_on_commit_callbacks)

    assert not SatisfactionSurvey.objects.exists() and not mail.outbox
    assert csat.survey_send(ticket=TicketFactory(status=Ticket.Status.OPEN)) is None  # only solved tickets


def test_closing_without_solving_sends_nothing(make_user, django_capture_on_commit_callbacks):
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.ticket_status_set(ticket=ticket, status=Ticket.Status.CLOSED, actor=make_user("agent"))
    assert not SatisfactionSurvey.objects.exists()


# --- Answering ----------------------------------------------------------------------------------


def test_the_survey_page_records_the_answer_and_a_csat_event(client):
    survey = SatisfactionSurveyFactory()
    url = reverse("help_center:survey", args=[survey.token])

    page = client.get(url, {"rating": "4"})
    assert page.status_code == 200 and page.context["form"]["rating"].value() == "4"  # preselected, not saved
    survey.refresh_from_db()
    assert survey.rating is None

    response = client.post(url, {"rating": "4", "comment": "Quick and kind."})

    survey.refresh_from_db()
    assert response.status_code == 200 and b"Your answer was saved" in response.content
    assert (survey.rating, survey.comment, survey.answered_at is not None) == (4, "Quick and kind.", True)
    event = TicketEvent.objects.get(ticket=survey.ticket, kind=TicketEvent.Kind.CSAT)
    assert event.data == {"rating": 4, "comment": "Quick and kind."}


def test_the_answer_can_change_for_a_week_then_not(client):
    survey = SatisfactionSurveyFactory()
    url = reverse("help_center:survey", args=[survey.token])
    client.post(url, {"rating": "2"})
    client.post(url, {"rating": "5", "comment": "Sorted after all"})
    survey.refresh_from_db()
    assert survey.rating == 5
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.CSAT).latest("id").data["previous"] == 2

    SatisfactionSurvey.objects.filter(pk=survey.pk).update(answered_at=timezone.now() - timedelta(days=8))
    page = client.get(url)
    assert b"survey-closed" in page.content and b"survey-form" not in page.content
    late = client.post(url, {"rating": "1"})
    survey.refresh_from_db()
    assert late.status_code == 400 and survey.rating == 5


def test_bad_ratings_and_unknown_links_are_refused(client):
    survey = SatisfactionSurveyFactory()
    url = reverse("help_center:survey", args=[survey.token])

    for rating in ("0", "6", "great", ""):
        assert client.post(url, {"rating": rating}).status_code == 400
    assert client.post(url, {"rating": "3", "comment": "x" * 2001}).status_code == 400
    assert client.get(reverse("help_center:survey", args=["not-a-token"])).status_code == 404
    survey.refresh_from_db()
    assert survey.rating is None and not TicketEvent.objects.filter(kind=TicketEvent.Kind.CSAT).exists()


def test_survey_answers_are_rate_limited(client, monkeypatch):
    from helpdesk.views import help_center as views

    monkeypatch.setitem(views.LIMITS, "survey", (1, 3600))
    url = reverse("help_center:survey", args=[SatisfactionSurveyFactory().token])
    assert client.post(url, {"rating": "4"}).status_code == 200
    assert client.post(url, {"rating": "5"}).status_code == 429


# --- Summary ------------------------------------------------------------------------------------


def test_the_summary_has_average_distribution_and_response_rate(django_assert_num_queries):
    now = timezone.now()
    for rating in (5, 5, 4, 2, None):
        SatisfactionSurveyFactory(rating=rating, answered_at=now if rating else None)
    SatisfactionSurveyFactory(rating=1, answered_at=now, sent_at=now - timedelta(days=40))  # outside the window

    with django_assert_num_queries(2):
        summary = csat_summary(30)

    assert (summary.sent, summary.answered, summary.average) == (5, 4, 4.0)
    assert summary.distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 2}
    assert summary.response_rate == 0.8 and summary.satisfied_share == 0.75
    assert csat_summary(90).distribution[1] == 1


def test_an_empty_period_has_no_rates():
    summary = csat_summary(7)
    assert (summary.sent, summary.average, summary.response_rate, summary.satisfied_share) == (0, None, None, None)
