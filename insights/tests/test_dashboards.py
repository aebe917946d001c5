"""Dashboards: each role lands on its preset, every catalog widget renders from the rollups, filters narrow every
widget and travel into drill-down links and exports, custom dashboards belong to their owner, and bad input gets a
clear answer."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from helpdesk.tests.factories import TeamFactory, TicketFactory
from insights import catalog, services
from insights.contracts import MetricFilters
from insights.dashboards import PRESETS, Layout, Slot, dashboard_panels, period_dates
from insights.models import Dashboard
from insights.tests.factories import DashboardFactory, DashboardWidgetFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()  # replaced per test (_today_per_test)


@pytest.fixture(autouse=True)
def _today_per_test(monkeypatch):
    """The day taken per test, not at import: a run crossing midnight would compare yesterday's dates with the
    views' (which take theirs per request)."""
    monkeypatch.setitem(globals(), "TODAY", timezone.localdate())


def dashboard_url(slug, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("insights:dashboard", args=[slug]) + (f"?{query}" if query else "")


@pytest.fixture
def tickets():
    """Five tickets this week on two teams (three solved), two the week before; rollups rebuilt from them."""
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    now = timezone.now()
    for days, team, solved in ((1, support, True), (2, support, True), (2, billing, True), (3, billing, False),
                               (4, support, False), (9, support, True), (10, billing, False)):  # fmt: skip
        created = now - timedelta(days=days)
        TicketFactory(
            team=team,
            created=created,
            status="solved" if solved else "open",
            solved_at=created + timedelta(hours=5) if solved else None,
        )
    services.rollups_repair_recent(days=0)
    return {"support": support, "billing": billing}


@pytest.mark.parametrize(("role", "preset"), [("agent", "support"), ("admin", "support"), ("sales", "sales"),
                                              ("owner", "owner")])  # fmt: skip
def test_insights_open_on_the_preset_of_the_persons_work(client, login, role, preset):
    login(role)
    response = client.get(reverse("insights:home"))
    assert response.status_code == 302
    assert response.url == reverse("insights:dashboard", args=[preset])


def test_viewers_have_no_insights(client, login):
    login("viewer")
    assert client.get(reverse("insights:dashboard", args=["support"])).status_code == 403


@pytest.mark.parametrize("slug", list(PRESETS))
def test_every_preset_renders_all_its_widgets(client, login, tickets, slug):
    login("owner")
    response = client.get(dashboard_url(slug))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="widget"') == len(PRESETS[slug].slots)


@pytest.mark.parametrize("key", list(catalog.CATALOG))
def test_every_catalog_entry_builds_with_and_without_data(key, make_user):
    make_user("agent")
    week = MetricFilters(start=TODAY - timedelta(days=6), end=TODAY)
    empty = catalog.widget_data(key, week)
    assert empty.kind == catalog.CATALOG[key].kind
    TicketFactory()
    services.rollups_repair_recent(days=0)
    year = MetricFilters(start=TODAY - timedelta(days=364), end=TODAY)
    data = catalog.widget_data(key, year)
    columns, rows = data.table()
    assert all(len(row) == len(columns) for row in rows)


def test_numbers_count_the_period_and_compare_with_the_one_before(tickets):
    week = MetricFilters(start=TODAY - timedelta(days=6), end=TODAY)
    created = catalog.widget_data("tickets_created", week)
    assert (created.figure.value, created.figure.previous) == (5, 2)
    support_only = catalog.widget_data(
        "tickets_created", MetricFilters(week.start, week.end, team_id=tickets["support"].pk)
    )
    assert support_only.figure.value == 3


def test_changing_the_period_swaps_only_the_grid_and_narrows_every_widget(client, login, tickets):
    login("agent")
    response = client.get(
        dashboard_url("support", period="7d"), headers={"HX-Request": "true", "HX-Target": "dashboard-grid"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="dashboard-grid"')
    assert "dashboard-filters" not in html
    start = (TODAY - timedelta(days=6)).strftime("%-d %b %Y")
    assert start in html


def test_number_widgets_link_to_the_list_behind_them_with_the_same_filters(tickets):
    team = tickets["billing"].pk
    week = MetricFilters(start=TODAY - timedelta(days=6), end=TODAY, team_id=team, channel="email")
    drill = urlsplit(catalog.widget_data("tickets_solved", week).drill)
    assert drill.path == reverse("tickets:ticket_list")
    assert parse_qs(drill.query) == {
        "team": [str(team)],
        "channel": ["email"],
        "solved_from": [week.start.isoformat()],
        "solved_to": [TODAY.isoformat()],
    }


def test_bars_link_each_bar_to_its_own_slice(tickets):
    week = MetricFilters(start=TODAY - timedelta(days=6), end=TODAY)
    data = catalog.widget_data("tickets_by_team", week)
    assert set(data.labels) == {"Support", "Billing"}
    assert f"team={tickets['support'].pk}" in data.links["Support"]


def test_a_widgets_own_filters_narrow_the_page_filters(tickets):
    layout = Layout("x", "x", (Slot("tickets_created", filters={"team": str(tickets["support"].pk), "period": "7d"}),))
    page = MetricFilters(start=TODAY - timedelta(days=89), end=TODAY)
    [panel] = dashboard_panels(layout, page)
    assert panel.filters.team_id == tickets["support"].pk
    assert panel.filters.start == TODAY - timedelta(days=6)
    assert panel.data.figure.value == 3


def test_sales_widgets_ignore_ticket_dimensions(tickets):
    filters = MetricFilters(start=TODAY - timedelta(days=6), end=TODAY, team_id=tickets["support"].pk, agent_id=5)
    cleared = catalog.for_source(filters, "leads")
    assert (cleared.team_id, cleared.agent_id) == (None, 5)


def test_one_widget_refreshes_alone(client, login, tickets):
    login("agent")
    url = reverse("insights:widget", args=["support", 0]) + "?period=7d"
    html = client.get(url).content.decode()
    assert html.lstrip().startswith('<div class="insights-widget')
    assert 'id="widget-0"' in html
    assert client.get(reverse("insights:widget", args=["support", 99])).status_code == 404


def test_export_csv_carries_the_widgets_rows_with_units(client, login, tickets):
    widget = DashboardWidgetFactory(dashboard__owner=login("agent"), key="tickets_by_team")
    url = reverse("insights:widget_export", args=[widget.dashboard.pk, 0]) + "?period=7d&format=csv"
    response = client.get(url)
    assert response["Content-Disposition"].startswith('attachment; filename="tickets-by-team-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    assert rows[0] == ["Item", "Created", "Solved"]
    assert sorted(rows[1:]) == [["Billing", "2", "1"], ["Support", "3", "2"]]


def test_export_xlsx_is_a_workbook_with_the_period_and_figures(client, login, tickets):
    login("agent")
    url = reverse("insights:widget_export", args=["support", 0]) + "?period=7d&format=xlsx"
    response = client.get(url)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = zipfile.ZipFile(io.BytesIO(response.content))
    strings = book.read("xl/sharedStrings.xml").decode()
    assert "Tickets created" in strings and "This period" in strings
    assert "<v>5</v>" in book.read("xl/worksheets/sheet1.xml").decode()


def test_export_refuses_an_unknown_format_in_words(client, login):
    login("agent")
    response = client.get(reverse("insights:widget_export", args=["support", 0]) + "?format=pdf")
    assert response.status_code == 400
    assert "csv" in response.content.decode()


def test_a_bad_custom_period_says_so_and_shows_the_default(client, login):
    login("agent")
    html = client.get(dashboard_url("support", period="custom", start="2026-05-01", end="2026-04-01")).content.decode()
    assert "The period ends before it starts." in html
    start, _ = period_dates("30d")
    assert start.strftime("%-d %b %Y") in html


def test_periods_cover_whole_months_and_quarters():
    day = TODAY.replace(year=2026, month=3, day=15)
    assert period_dates("last_month", today=day) == (day.replace(month=2, day=1), day.replace(month=2, day=28))
    assert period_dates("quarter", today=day) == (day.replace(month=1, day=1), day)
    assert period_dates("month", today=day) == (day.replace(day=1), day)


def test_copying_a_preset_makes_a_custom_dashboard_with_its_widgets(client, login):
    user = login("agent")
    response = client.post(reverse("insights:dashboard_create"), {"name": "My support", "copy": "support"})
    board = Dashboard.objects.get(owner=user)
    assert response.status_code == 302 and response.url == reverse("insights:dashboard", args=[board.pk])
    assert [w.key for w in board.widgets.all()] == [slot.key for slot in PRESETS["support"].slots]
    assert client.get(dashboard_url(board.pk)).status_code == 200


def test_adding_editing_moving_and_removing_widgets(client, login):
    user = login("agent")
    board = DashboardFactory(owner=user)
    client.post(reverse("insights:widget_create", args=[board.pk]), {"key": "tickets_created", "size": "small"})
    client.post(
        reverse("insights:widget_create", args=[board.pk]), {"key": "csat_average", "size": "medium", "period": "7d"}
    )
    first, second = board.widgets.all()
    assert second.filters == {"period": "7d"}
    assert "Period: Last 7 days" in client.get(dashboard_url(board.pk)).content.decode()
    client.post(reverse("insights:widget_earlier", args=[second.pk]))
    assert [w.key for w in board.widgets.all()] == ["csat_average", "tickets_created"]
    client.post(
        reverse("insights:widget_update", args=[first.pk]),
        {"key": "tickets_solved", "size": "large", "title": "Done"},
    )
    first.refresh_from_db()
    assert (first.key, first.size, first.title) == ("tickets_solved", "large", "Done")
    client.post(reverse("insights:widget_delete", args=[second.pk]))
    assert [w.key for w in board.widgets.all()] == ["tickets_solved"]


def test_an_unknown_widget_is_refused_in_words(client, login):
    board = DashboardFactory(owner=login("agent"))
    response = client.post(reverse("insights:widget_create", args=[board.pk]), {"key": "nope", "size": "small"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not board.widgets.exists()


def test_someone_elses_private_dashboard_is_not_found(client, login, make_user):
    board = DashboardFactory(owner=make_user("agent"), shared=False)
    login("agent")
    assert client.get(dashboard_url(board.pk)).status_code == 404
    assert client.post(reverse("insights:dashboard_delete", args=[board.pk])).status_code == 404


def test_shared_dashboards_are_seen_by_all_and_changed_by_managers_only(client, login, make_user):
    board = DashboardFactory(owner=make_user("admin"), shared=True)
    DashboardWidgetFactory(dashboard=board)
    login("sales")
    assert client.get(dashboard_url(board.pk)).status_code == 200
    assert client.post(reverse("insights:widget_create", args=[board.pk]), {"key": "ai_runs"}).status_code == 404
    login("admin")
    client.post(reverse("insights:widget_create", args=[board.pk]), {"key": "ai_runs", "size": "small"})
    assert board.widgets.count() == 2


def test_only_managers_may_share(client, login):
    login("agent")
    client.post(reverse("insights:dashboard_create"), {"name": "Mine", "shared": "on"})
    assert Dashboard.objects.get(name="Mine").shared is False


def test_a_dashboard_holds_at_most_24_widgets(make_user):
    board = DashboardFactory(owner=make_user("agent"))
    for _ in range(services.MAX_WIDGETS):
        services.widget_add(dashboard=board, key="ai_runs")
    with pytest.raises(services.ValidationError):
        services.widget_add(dashboard=board, key="ai_runs")


@pytest.mark.parametrize("slug", list(PRESETS))
def test_no_dashboard_request_reads_tickets_leads_quotes_or_runs(client, login, tickets, slug):
    """Figures come from the rollups: the page's queries never touch the source tables."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login("owner")
    sources = ('"helpdesk_ticket"', '"leads_lead"', '"quotes_quote"', '"ai_airun"', '"helpdesk_satisfactionsurvey"')
    with CaptureQueriesContext(connection) as queries:
        assert client.get(dashboard_url(slug, period="365d")).status_code == 200
    reading = [q["sql"] for q in queries.captured_queries if any(f"FROM {table}" in q["sql"] for table in sources)]
    assert not reading, reading


def test_a_long_trend_draws_one_point_a_week_that_adds_up_to_the_period(tickets):
    year = MetricFilters(start=TODAY - timedelta(days=364), end=TODAY)
    data = catalog.widget_data("tickets_trend", year)
    assert data.note == "One point a week." and 52 <= len(data.labels) <= 54
    created, solved = data.series
    assert sum(created.values) == catalog.widget_data("tickets_created", year).figure.value == 7
    assert sum(solved.values) == 4
