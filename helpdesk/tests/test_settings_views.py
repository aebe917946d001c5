"""Helpdesk settings pages: every page and modal renders for admins, others are refused, and each form saves,
refuses bad input with a message, and refreshes its table out of band."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.urls import reverse

from helpdesk.business_hours import calendar_compiled
from helpdesk.models import AgentProfile, BusinessCalendar, Category, HelpdeskSettings, Skill, SLAPolicy, Team
from helpdesk.tests.factories import (
    BusinessCalendarFactory,
    BusinessHoursFactory,
    CategoryFactory,
    SkillFactory,
    SLAPolicyFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PAGES = ["general", "policy_list", "calendar_list", "category_list"]
PEOPLE_PAGES = ["people:teams", "people:skills"]  # the helpdesk's teams and skills lists, shown under People
MODALS = ["policy_create", "team_create", "skill_create", "calendar_create", "category_create"]


@pytest.fixture
def admin(client, login):
    return login("admin")


def url(name: str, *args) -> str:
    return reverse(name if ":" in name else f"helpdesk_settings:{name}", args=args)


def closed_modal(response) -> str:
    assert response.status_code == 200, response.content.decode()[:2000]
    assert response["HX-Trigger"] == "modal:close"
    return response.content.decode()


# --- Rendering and permissions ------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES + PEOPLE_PAGES)
def test_pages_render_for_admins(name, client, admin, django_assert_max_num_queries):
    SLAPolicyFactory(name="Urgent tickets", priority="urgent")
    TeamFactory(name="Billing")

    with django_assert_max_num_queries(20):
        page = client.get(url(name))

    assert page.status_code == 200
    title = "People" if name in PEOPLE_PAGES else "Helpdesk settings"
    assert f'<h1 class="h3 mb-0">{title}</h1>' in page.content.decode()


@pytest.mark.parametrize("name", MODALS)
def test_modals_render_as_fragments_and_as_pages(name, client, admin):
    modal = client.get(url(name), **HTMX).content.decode()
    page = client.get(url(name)).content.decode()

    assert modal.lstrip().startswith("<form") and "<html" not in modal
    assert "<html" in page and f'action="{url(name)}"' in page


@pytest.mark.parametrize("role", ["agent", "sales", "viewer"])
@pytest.mark.parametrize("name", PAGES + PEOPLE_PAGES + MODALS)
def test_people_who_cannot_configure_the_helpdesk_are_refused(name, role, client, login):
    login(role)
    assert client.get(url(name)).status_code == 403
    assert client.post(url(name)).status_code in {403, 405}


def test_signed_out_visitors_go_to_login(client):
    response = client.get(url("policy_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "name", ["policy_update", "policy_delete", "team_update", "calendar_update", "category_delete", "skill_delete"]
)
def test_unknown_ids_are_not_found(name, client, admin):
    assert client.get(url(name, 987654)).status_code == 404


def test_the_sla_page_shows_metrics_and_the_risk_method(client, admin):
    page = client.get(url("policy_list")).content.decode()

    assert 'data-testid="sla-metrics"' in page
    assert "a transparent rule of thumb" in page
    assert "No SLA policies yet" in page


# --- General switches ---------------------------------------------------------------------------


def test_general_settings_save(client, admin):
    data = {
        "auto_assign": "",
        "analysis_enabled": "on",
        "auto_response": "on",
        "auto_response_confidence": "0.9",
        "auto_close": "on",
        "kb_recommendation_threshold": "0.5",
        "help_center_enabled": "on",
        "help_center_title": "Acme help",
        "csat_enabled": "",
    }
    response = client.post(url("general"), data)

    assert response.status_code == 302
    settings = HelpdeskSettings.current()
    assert (settings.auto_assign, settings.auto_response, settings.auto_close, settings.csat_enabled) == (
        False,
        True,
        True,
        False,
    )
    assert settings.auto_response_confidence == 0.9 and settings.help_center_title == "Acme help"


def test_auto_close_needs_auto_response_and_thresholds_stay_between_0_and_1(client, admin):
    data = {"auto_close": "on", "auto_response_confidence": "1.5", "kb_recommendation_threshold": "0.4"}
    response = client.post(url("general"), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Only automatically answered tickets are solved: turn that on first." in page
    assert "Ensure this value is less than or equal to 1.0." in page
    assert not HelpdeskSettings.current().auto_close


# --- SLA policies -------------------------------------------------------------------------------


def policy_data(**overrides) -> dict:
    data = {
        "name": "Urgent",
        "active": "on",
        "priority": "urgent",
        "customer_tier": "",
        "channel": "",
        "first_response_minutes": "30m",
        "next_response_minutes": "1h 30m",
        "resolution_minutes": "1.5h",
        "calendar": "",
        "warn_at_percent": "75",
        "breach_reassign_team": "",
    }
    return data | overrides


def test_a_policy_is_added_last_from_the_modal_with_durations_in_words(client, admin):
    SLAPolicyFactory(name="Catch-all", position=10)

    html = closed_modal(client.post(url("policy_create"), policy_data(), **HTMX))

    policy = SLAPolicy.objects.get(name="Urgent")
    assert (policy.first_response_minutes, policy.next_response_minutes, policy.resolution_minutes) == (30, 90, 90)
    assert list(SLAPolicy.objects.values_list("name", flat=True)) == ["Catch-all", "Urgent"]
    assert '<div id="policy-table" class="card" hx-swap-oob="true">' in html
    assert "1h 30m" in html and "Added the SLA policy “Urgent”" in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_response_minutes", "soon", "Write a duration like “45m”, “4h”, “1h 30m” or a number of minutes."),
        ("first_response_minutes", "9h", "The first response cannot be due after the solve time."),
        ("resolution_minutes", "", "This field is required."),
        ("warn_at_percent", "100", "Ensure this value is less than or equal to 99."),
    ],
)
def test_bad_policy_input_comes_back_in_the_modal(field, value, message, client, admin):
    response = client.post(url("policy_create"), policy_data(**{field: value}), **HTMX)

    assert response.status_code == 200 and "HX-Trigger" not in response
    assert message in response.content.decode()
    assert not SLAPolicy.objects.exists()


def test_a_policy_is_edited_and_its_form_shows_durations(client, admin):
    policy = SLAPolicyFactory(name="Old", first_response_minutes=90)
    assert 'value="1h 30m"' in client.get(url("policy_update", policy.pk), **HTMX).content.decode()

    closed_modal(client.post(url("policy_update", policy.pk), policy_data(name="New"), **HTMX))

    policy.refresh_from_db()
    assert (policy.name, policy.priority, policy.warn_at_percent) == ("New", "urgent", 75)


def test_policies_move_up_and_down(client, admin):
    first, second, third = (SLAPolicyFactory(name=name, position=n) for n, name in enumerate("ABC", start=1))

    response = client.post(url("policy_move_up", third.pk), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="policy-table"' in html
    assert html.index(f'id="policy-{third.pk}"') < html.index(f'id="policy-{second.pk}"')  # the table is in order
    assert list(SLAPolicy.objects.values_list("name", flat=True)) == ["A", "C", "B"]

    assert client.post(url("policy_move_down", first.pk)).status_code == 302  # without JavaScript
    assert list(SLAPolicy.objects.values_list("name", "position")) == [("C", 10), ("A", 20), ("B", 30)]

    client.post(url("policy_move_down", second.pk), **HTMX)  # already last: stays
    assert list(SLAPolicy.objects.values_list("name", flat=True)) == ["C", "A", "B"]
    assert client.get(url("policy_move_up", first.pk)).status_code == 405


def test_a_policy_is_deleted_after_confirmation(client, admin):
    policy = SLAPolicyFactory(name="Gone")
    assert "Delete “Gone”?" in client.get(url("policy_delete", policy.pk), **HTMX).content.decode()

    closed_modal(client.post(url("policy_delete", policy.pk), **HTMX))

    assert not SLAPolicy.objects.exists()


# --- Teams --------------------------------------------------------------------------------------


def test_a_team_is_created_with_members_lead_and_calendar(client, admin, make_user):
    ana, ben = make_user("agent", name="Ana"), make_user("agent", name="Ben")
    make_user("viewer", name="Vic")
    calendar = BusinessCalendarFactory(name="Berlin")
    form = client.get(url("team_create"), **HTMX).content.decode()
    assert "Ana" in form and "Vic" not in form  # only people who work tickets

    data = {
        "name": "Billing",
        "description": "Invoices",
        "lead": ben.pk,
        "members": [ana.pk, ben.pk],
        "calendar": calendar.pk,
    }
    html = closed_modal(client.post(url("team_create"), data, **HTMX))

    team = Team.objects.get(name="Billing")
    assert (team.lead, team.calendar) == (ben, calendar)
    assert set(team.members.all()) == {ana, ben}
    assert 'id="team-table"' in html and "Ana, Ben" in html


def test_a_team_is_renamed_and_deleted(client, admin):
    team = TeamFactory(name="Old")
    closed_modal(client.post(url("team_update", team.pk), {"name": "New", "members": []}, **HTMX))
    assert Team.objects.get().name == "New"

    closed_modal(client.post(url("team_delete", team.pk), **HTMX))
    assert not Team.objects.exists()


def test_team_names_are_unique(client, admin):
    TeamFactory(name="Billing")
    response = client.post(url("team_create"), {"name": "Billing"}, **HTMX)
    assert "Team with this Name already exists." in response.content.decode()


# --- Agents and skills --------------------------------------------------------------------------


def test_an_agent_is_set_up_with_availability_capacity_and_skills(client, admin, make_user):
    ana = make_user("agent", name="Ana")
    billing = SkillFactory(name="Billing")
    assert "No profile: not auto-assigned" in client.get(url("people:skills")).content.decode()

    data = {"availability": "busy", "max_open_tickets": "12", "skills": [billing.pk]}
    html = closed_modal(client.post(url("agent_update", ana.pk), data, **HTMX))

    profile = AgentProfile.objects.get(user=ana)
    assert (profile.availability, profile.max_open_tickets) == ("busy", 12)
    assert list(profile.skills.all()) == [billing]
    assert 'id="agent-table"' in html and "Billing" in html


def test_people_who_do_not_work_tickets_have_no_agent_profile_page(client, admin, make_user):
    assert client.get(url("agent_update", make_user("viewer").pk)).status_code == 404


def test_a_skill_is_added_once_and_deleted(client, admin):
    closed_modal(client.post(url("skill_create"), {"name": "  German  "}, **HTMX))
    duplicate = client.post(url("skill_create"), {"name": "german"}, **HTMX)

    assert "There is already a skill called “german”." in duplicate.content.decode()
    skill = Skill.objects.get()
    assert skill.name == "German"
    closed_modal(client.post(url("skill_delete", skill.pk), **HTMX))
    assert not Skill.objects.exists()


# --- Business calendars -------------------------------------------------------------------------


def calendar_data(**overrides) -> dict:
    data = {"name": "Berlin office", "timezone": "Europe/Berlin", "is_default": "", "always_open": "", "holidays": ""}
    for weekday in range(5):
        data[f"day{weekday}_opens1"], data[f"day{weekday}_closes1"] = "09:00", "12:00"
        data[f"day{weekday}_opens2"], data[f"day{weekday}_closes2"] = "13:00", "17:30"
    return data | overrides


def test_a_calendar_is_created_with_a_lunch_break_and_holidays(client, admin):
    holidays = "2026-12-25 Christmas Day\n2026-12-26\n"
    html = closed_modal(client.post(url("calendar_create"), calendar_data(holidays=holidays), **HTMX))

    calendar = BusinessCalendar.objects.get(name="Berlin office")
    assert calendar.hours.count() == 10
    assert list(calendar.hours.filter(weekday=0).values_list("opens", "closes")) == [
        (time(9), time(12)),
        (time(13), time(17, 30)),
    ]
    assert list(calendar.holidays.values_list("date", "name")) == [
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 26), "Holiday"),
    ]
    assert 'id="calendar-table"' in html and "Europe/Berlin" in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"day0_closes1": "08:00"}, "Monday: closing must come after opening (23:59 = midnight)."),
        ({"day1_opens2": "11:00"}, "Tuesday: the second interval must start after the first ends."),
        ({"day2_closes1": ""}, "Wednesday: give both times."),
        ({"timezone": "Mars/Olympus"}, "“Mars/Olympus” is not a time zone name"),
        ({"holidays": "25.12.2026 Christmas"}, "Line 1 (“25.12.2026 Christmas”) does not start with a date"),
        (
            {f"day{d}_{p}{s}": "" for d in range(5) for p in ("opens", "closes") for s in (1, 2)},
            "Give the opening hours of at least one day, or make the calendar open 24/7.",
        ),
    ],
)
def test_bad_calendar_input_comes_back_with_a_message(overrides, message, client, admin):
    response = client.post(url("calendar_create"), calendar_data(**overrides), **HTMX)

    assert response.status_code == 200 and "HX-Trigger" not in response
    assert message in response.content.decode()
    assert not BusinessCalendar.objects.exists()


def test_editing_a_calendar_changes_what_the_sla_math_counts(client, admin):
    calendar = BusinessCalendarFactory(name="Office", timezone="UTC")
    BusinessHoursFactory(calendar=calendar, weekday=0, opens=time(9), closes=time(17))
    before = calendar_compiled(calendar)
    form = client.get(url("calendar_update", calendar.pk), **HTMX).content.decode()
    assert 'value="09:00"' in form and 'value="UTC"' in form

    closed_modal(client.post(url("calendar_update", calendar.pk), calendar_data(name="Office"), **HTMX))

    calendar.refresh_from_db()
    after = calendar_compiled(calendar)
    assert after is not before and after.zone.key == "Europe/Berlin"
    assert after.weekly_minutes == 5 * (180 + 270)


def test_the_default_calendar_moves_and_cannot_be_deleted(client, admin):
    old = BusinessCalendarFactory(name="Old default", is_default=True)
    closed_modal(client.post(url("calendar_create"), calendar_data(is_default="on"), **HTMX))

    old.refresh_from_db()
    new = BusinessCalendar.objects.get(is_default=True)
    assert not old.is_default and new.name == "Berlin office"

    refused = client.post(url("calendar_delete", new.pk), **HTMX)
    assert "This is the default calendar. Make another calendar the default first." in refused.content.decode()
    assert BusinessCalendar.objects.filter(pk=new.pk).exists()

    unset = client.post(url("calendar_update", new.pk), calendar_data(), **HTMX)
    assert "Some calendar must be the default" in unset.content.decode()

    closed_modal(client.post(url("calendar_delete", old.pk), **HTMX))
    assert list(BusinessCalendar.objects.all()) == [new]


# --- Categories ---------------------------------------------------------------------------------


def test_categories_are_created_edited_and_deleted(client, admin):
    team = TeamFactory(name="Billing")
    data = {"name": "Invoices", "description": "Questions about invoices and payments.", "default_team": team.pk}
    html = closed_modal(client.post(url("category_create"), data, **HTMX))
    category = Category.objects.get()
    assert category.default_team == team and "Questions about invoices" in html

    closed_modal(client.post(url("category_update", category.pk), data | {"name": "Billing"}, **HTMX))
    assert Category.objects.get().name == "Billing"

    closed_modal(client.post(url("category_delete", category.pk), **HTMX))
    assert not Category.objects.exists()


def test_a_category_needs_a_description_for_the_ai(client, admin):
    response = client.post(url("category_create"), {"name": "Shipping", "description": ""}, **HTMX)
    assert "This field is required." in response.content.decode()


def test_without_javascript_forms_redirect_to_their_page(client, admin):
    response = client.post(url("category_create"), {"name": "Shipping", "description": "Parcels."})

    assert response.status_code == 302 and response["Location"] == url("category_list")
    assert CategoryFactory._meta.model.objects.filter(name="Shipping").exists()
