"""The lead list's filters and views: built-in views with counts, saving the current filters as a personal or shared
view, picking, renaming and deleting one, who may change whose view, and what the list costs in queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from leads import selectors, services
from leads.forms import list_query
from leads.models import Lead, LeadSavedView
from leads.periods import period_range

from .factories import LeadFactory, LeadSavedViewFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, *args) -> str:
    return reverse(f"leads:{name}", args=args)


def htmx(target: str) -> dict:
    return {**HTMX, "HTTP_HX_TARGET": target}


def titles(user, params: dict) -> set[str]:
    query = list_query(params, user=user)
    return {lead.title for lead in selectors.lead_list(filters=query.filters, sort=query.sort).items}


# --- Periods and filters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "today", "expected"),
    [
        ("this_month", date(2026, 2, 10), (date(2026, 2, 1), date(2026, 2, 28))),
        ("next_month", date(2026, 12, 7), (date(2027, 1, 1), date(2027, 1, 31))),
        ("this_quarter", date(2026, 12, 7), (date(2026, 10, 1), date(2026, 12, 31))),
        ("last_quarter", date(2026, 2, 7), (date(2025, 10, 1), date(2025, 12, 31))),
        ("this_week", date(2026, 12, 9), (date(2026, 12, 7), date(2026, 12, 13))),
        ("overdue", date(2026, 12, 7), (None, date(2026, 12, 6))),
        ("whenever", date(2026, 12, 7), (None, None)),
    ],
)
def test_period_range_names_whole_months_quarters_and_weeks(name, today, expected):
    assert period_range(name, today=today) == expected


def test_list_filters_by_tag_value_close_date_stalled_and_won_period(make_user, stages):
    user = make_user("sales")
    today = timezone.localdate()
    month_start, month_end = period_range("this_month", today=today)
    LeadFactory(title="Tagged", stage=stages["Prospect"], tags=["emea", "upsell"], value=500)
    LeadFactory(title="Big", stage=stages["Prospect"], value=90_000, expected_close=month_start)
    LeadFactory(title="Later", stage=stages["Prospect"], value=100, expected_close=month_end + timedelta(days=40))
    stale = LeadFactory(title="Stale", stage=stages["Qualified"], value=100)
    Lead.objects.filter(pk=stale.pk).update(updated=timezone.now() - timedelta(days=20))
    LeadFactory(title="Won now", stage=stages["Won"], value=10, won_at=timezone.now())
    LeadFactory(title="Won long ago", stage=stages["Won"], value=10, won_at=timezone.now() - timedelta(days=400))

    assert titles(user, {"tag": "EMEA"}) == {"Tagged"}
    assert titles(user, {"value_min": "1000"}) == {"Big"}
    assert titles(user, {"value_max": "499", "status": "open"}) == {"Later", "Stale"}
    assert titles(user, {"close": "this_month"}) == {"Big"}
    assert titles(user, {"close_from": str(month_end), "sort": "expected_close"}) == {"Later"}
    assert titles(user, {"stalled": "14", "status": "open"}) == {"Stale"}
    assert titles(user, {"won": "this_year"}) == {"Won now"}


def test_list_search_reads_prospect_company_names_too(make_user, stages):
    user = make_user("sales")
    LeadFactory(title="Seats", stage=stages["Prospect"], company_name="Initech")
    LeadFactory(title="Other", stage=stages["Prospect"])
    assert titles(user, {"q": "initech"}) == {"Seats"}


def test_bad_filter_values_are_ignored_not_a_server_error(client, login, stages):
    login("viewer")
    LeadFactory(title="Deal", stage=stages["Prospect"])
    response = client.get(url("lead_list"), {"value_min": "lots", "close_from": "soon", "stalled": "-3", "won": "x"})
    assert response.status_code == 200 and "Deal" in response.content.decode()


def test_lead_counts_answers_several_filters_in_one_query(make_user, stages, django_assert_num_queries):
    user = make_user("sales")
    LeadFactory.create_batch(2, stage=stages["Prospect"], owner=user)
    LeadFactory(stage=stages["Won"])
    filters = [list_query(params, user=user).filters for params in ({}, {"owner": "me"}, {"status": "won"})]
    with django_assert_num_queries(1):
        assert selectors.lead_counts(filters) == [3, 2, 1]


# --- The rail -----------------------------------------------------------------------------------


def test_the_rail_offers_the_default_views_with_counts_and_marks_the_one_shown(client, login, stages):
    user = login("sales")
    today = timezone.localdate()
    LeadFactory(title="Mine", stage=stages["Prospect"], owner=user, expected_close=today)
    LeadFactory(title="Theirs", stage=stages["Prospect"])

    html = client.get(url("lead_list"), {"owner": "me", "status": "open"}).content.decode()

    for name in ("My open leads", "Closing this month", "Stalled 14+ days", "Won this quarter"):
        assert name in html
    active = html.split('data-view-key="my-open"', 1)[1].split("</div>", 1)[0]
    assert 'aria-current="page"' in active and ">1</span>" in active
    assert "Mine" in html and "Theirs" not in html


def test_a_views_link_swaps_the_filters_and_table_and_the_rail_follows_out_of_band(client, login, stages):
    login("sales")
    LeadFactory(title="Won deal", stage=stages["Won"], won_at=timezone.now())
    LeadFactory(title="Open deal", stage=stages["Prospect"])

    params = {"status": "won", "won": "this_quarter", "sort": "-value"}
    response = client.get(url("lead_list"), params, **htmx("lead-main"))

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lead-main"') and 'id="lead-filters"' in html
    assert "Won deal" in html and "Open deal" not in html
    assert 'id="lead-rail" class="sb-rail" hx-swap-oob="true"' in html


def test_filters_swap_only_the_table_with_the_rail(client, login, stages):
    login("viewer")
    LeadFactory(title="Alpha", stage=stages["Prospect"], tags=["vip"])
    LeadFactory(title="Beta", stage=stages["Prospect"])

    html = client.get(url("lead_list"), {"tag": "vip"}, **htmx("lead-table")).content.decode()

    assert html.lstrip().startswith('<div id="lead-table"') and "Alpha" in html and "Beta" not in html
    assert 'hx-swap-oob="true"' in html and 'id="lead-filters"' not in html


def test_the_list_costs_the_same_queries_for_more_leads_and_more_views(
    client, login, stages, django_assert_num_queries, django_assert_max_num_queries
):
    user = login("sales")
    LeadFactory.create_batch(3, stage=stages["Prospect"], owner=user)
    LeadSavedViewFactory(owner=user, shared=False)
    client.get(url("lead_list"))  # warm caches (session, content types) so both runs compare alike
    with django_assert_max_num_queries(12) as first:
        client.get(url("lead_list"))
    LeadFactory.create_batch(25, stage=stages["Qualified"], tags=["x"])
    LeadSavedViewFactory.create_batch(4, owner=user, shared=False)
    LeadSavedViewFactory.create_batch(2, shared=True)
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url("lead_list"))


# --- Saving, renaming, deleting -----------------------------------------------------------------


def test_save_view_keeps_only_valid_filters_normalised(client, login, stages):
    user = login("sales")
    response = client.get(url("lead_view_create"), {"status": "open", "tag": "VIP", "junk": "x"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'value="status=open&amp;tag=vip"' in html

    data = {"name": "  My   VIPs ", "filters": "tag=vip&status=open&x=1"}
    response = client.post(url("lead_view_create"), data, **HTMX)

    view = LeadSavedView.objects.get()
    assert response["HX-Redirect"] == url("lead_list") + "?status=open&tag=vip"
    assert (view.name, view.owner, view.shared) == ("My VIPs", user, False)
    assert view.filters == {"status": "open", "tag": "vip"}


def test_save_view_needs_a_name(client, login):
    login("sales")
    response = client.post(url("lead_view_create"), {"name": "   ", "filters": "status=open"}, **HTMX)
    assert response.status_code == 200 and "Give the view a name." in response.content.decode()
    assert not LeadSavedView.objects.exists()


def test_sales_people_share_views_readers_cannot(client, login):
    login("sales")
    client.post(url("lead_view_create"), {"name": "Team", "filters": "status=open", "shared": "on"}, **HTMX)
    assert LeadSavedView.objects.get().shared is True

    login("viewer")
    assert 'name="shared"' not in client.get(url("lead_view_create"), **HTMX).content.decode()
    client.post(url("lead_view_create"), {"name": "Mine", "filters": "", "shared": "on"}, **HTMX)
    assert LeadSavedView.objects.get(name="Mine").shared is False


def test_a_saved_view_appears_in_the_rail_of_its_owner_and_shared_ones_for_everyone(client, login, make_user):
    owner = make_user("sales")
    LeadSavedViewFactory(owner=owner, name="Private pick", shared=False)
    LeadSavedViewFactory(owner=owner, name="Team pick", shared=True)

    login("sales")
    html = client.get(url("lead_list")).content.decode()

    assert "Team pick" in html and "Private pick" not in html
    assert 'data-testid="lead-view-edit"' not in html  # someone else's shared view: no rename for a sales rep


def test_rename_and_unshare_a_view(client, login):
    user = login("sales")
    view = LeadSavedViewFactory(owner=user, name="Old", shared=True, filters={"tag": "vip"})

    response = client.post(url("lead_view_update", view.pk), {"name": "New name"}, **HTMX)

    view.refresh_from_db()
    assert (view.name, view.shared, view.filters) == ("New name", False, {"tag": "vip"})
    assert response["HX-Redirect"] == url("lead_list") + "?tag=vip"


def test_someone_elses_personal_view_is_not_found_and_their_shared_one_is_refused(client, login, make_user):
    owner = make_user("sales")
    private = LeadSavedViewFactory(owner=owner, shared=False)
    shared = LeadSavedViewFactory(owner=owner, shared=True)
    login("sales")

    assert client.post(url("lead_view_update", private.pk), {"name": "x"}).status_code == 404
    assert client.post(url("lead_view_delete", private.pk)).status_code == 404
    assert client.post(url("lead_view_update", shared.pk), {"name": "x"}).status_code == 403
    assert client.post(url("lead_view_delete", shared.pk)).status_code == 403
    assert LeadSavedView.objects.count() == 2


def test_managers_may_delete_a_shared_view_of_someone_else(client, login, make_user):
    shared = LeadSavedViewFactory(owner=make_user("sales"), shared=True)
    login("admin")
    assert client.get(url("lead_view_delete", shared.pk), **HTMX).status_code == 200
    response = client.post(url("lead_view_delete", shared.pk), **HTMX)
    assert response["HX-Redirect"] == url("lead_list") and not LeadSavedView.objects.exists()


def test_lead_view_create_refuses_past_the_limit(make_user):
    owner = make_user("sales")
    LeadSavedViewFactory.create_batch(services.MAX_VIEWS_PER_PERSON, owner=owner)
    with pytest.raises(ValidationError):
        services.lead_view_create(owner=owner, name="One more", filters={})
