"""The agent workspace's pages and fragments: list (views, filters, search, sort, pages, query counts), bulk
actions, the new-ticket form, the ticket page (edits with version checks, replies, notes), downloads, who may
do what."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import ContactFactory, CustomerFactory
from helpdesk.models import SavedView, Ticket, TicketEvent, TicketMessage
from helpdesk.selectors import tickets as selectors
from helpdesk.services import sla
from helpdesk.services import tickets as services
from helpdesk.tests.factories import (
    AttachmentFactory,
    BusinessCalendarFactory,
    CategoryFactory,
    SavedViewFactory,
    SLAPolicyFactory,
    TeamFactory,
    TicketFactory,
    TicketMessageFactory,
)
from helpdesk.views import tickets as views

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str) -> dict[str, str]:
    return {**HTMX, "HTTP_HX_TARGET": target}


def url(name: str, *args) -> str:
    return reverse(f"tickets:{name}", args=args)


def row_ids(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'<tr id="ticket-row-(\d+)"', html)]


def list_ids(client, **params) -> list[int]:
    response = client.get(url("ticket_list"), params)
    assert response.status_code == 200
    return [ticket.pk for ticket in response.context["page"].items]


# --- List page ----------------------------------------------------------------------------------


def test_list_page_shows_rows_rail_filters_and_the_new_button(client, login):
    agent = login("agent")
    ticket = TicketFactory(subject="Printer on fire", tags=["hardware"], assignee=agent, priority="urgent")

    response = client.get(url("ticket_list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="ticket-row-{ticket.pk}"' in html and "Printer on fire" in html
    assert ticket.requester.name in html and ticket.customer.name in html
    assert 'data-testid="ticket-new"' in html and 'data-sb-shortcut="n"' in html
    assert 'hx-trigger="input changed delay:200ms, search"' in html
    keys = re.findall(r'data-view-key="([\w-]+)"', html)
    assert keys == ["my-open", "unassigned", "breaching", "open", "all", "solved"]
    assert re.search(r'py-1 active" data-testid="rail-view" data-view-key="all"', html)
    assert "js/helpdesk.js" in html and 'id="shortcuts-modal"' in html


def test_navbar_puts_tickets_first_and_searches_tickets_on_ticket_pages(client, login):
    login("viewer")

    html = client.get(url("ticket_list")).content.decode()

    nav = html[html.index('id="main-nav"') :]
    assert nav.index('data-testid="nav-tickets"') < nav.index("/customers/")
    assert re.search(r'<form[^>]+role="search" action="/tickets/"', html)
    assert 'placeholder="Search tickets…' in html


def test_workspace_home_goes_to_the_ticket_list(client, login):
    login("agent")

    response = client.get("/")

    assert response.status_code == 302 and response["Location"] == url("ticket_list")


def test_list_empty_state_invites_to_create_the_first_ticket(client, login):
    login("agent")

    html = client.get(url("ticket_list")).content.decode()

    assert "No tickets yet" in html and "Create the first ticket" in html


def test_list_empty_search_offers_to_clear_it(client, login):
    login("agent")
    TicketFactory(subject="Printer")

    html = client.get(url("ticket_list"), {"q": "zebra"}).content.decode()

    assert "No tickets match “zebra”" in html and "Clear search and filters" in html


def test_search_fragment_is_the_table_with_the_rail_out_of_band(client, login):
    login("viewer")
    TicketFactory(subject="Invoice missing")
    TicketFactory(subject="Printer jammed")

    response = client.get(url("ticket_list"), {"q": "invoice"}, **htmx("ticket-table"))

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="ticket-table"')
    assert "Invoice missing" in html and "Printer jammed" not in html
    assert '<nav id="ticket-rail" class="sb-rail" hx-swap-oob="true"' in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_view_links_swap_filters_and_table_together(client, login):
    login("agent")

    response = client.get(url("ticket_list"), {"status": "unsolved"}, **htmx("ticket-main"))

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="ticket-main">')
    assert '<option value="unsolved" selected>' in html
    assert 'hx-swap-oob="true"' in html and 'data-view-key="open"' in html


def test_history_restore_gets_the_whole_page(client, login):
    login("agent")

    response = client.get(url("ticket_list"), **{**htmx("ticket-table"), "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"})

    assert "<html" in response.content.decode()


# --- Search -------------------------------------------------------------------------------------


def test_search_stems_words_and_matches_the_start_of_the_last_word(client, login):
    login("agent")
    printer = TicketFactory(subject="Printer does not print", original_description="Paper stays in the tray.")
    invoice = TicketFactory(subject="Wrong invoice total", original_description="The VAT is counted twice.")

    assert list_ids(client, q="printing") == [printer.pk]  # stemming: printing → print
    assert list_ids(client, q="invoi") == [invoice.pk]  # the word being typed
    assert list_ids(client, q="vat twi") == [invoice.pk]  # description, every word
    assert list_ids(client, q="paper invoice") == []


def test_search_finds_words_in_replies_and_a_ticket_by_number(client, login):
    login("agent")
    ticket = TicketFactory(subject="Login trouble")
    other = TicketFactory(subject="Something else")
    TicketMessageFactory(ticket=ticket, body="Reset the authenticator on the phone.")

    assert list_ids(client, q="authenticator") == [ticket.pk]
    assert list_ids(client, q=f"#{other.pk}") == [other.pk]


def test_search_ranks_subject_matches_first(client, login):
    login("agent")
    in_body = TicketFactory(subject="Question", original_description="Is a refund possible for the order?")
    in_subject = TicketFactory(subject="Refund for order 42", original_description="Please help.")

    response = client.get(url("ticket_list"), {"q": "refund"})

    assert [t.pk for t in response.context["page"].items] == [in_subject.pk, in_body.pk]
    assert response.context["sort"] == "-relevance"


def test_relevance_ranks_the_newest_matches_and_a_date_sort_reaches_every_match(client, login, monkeypatch):
    login("agent")
    monkeypatch.setattr(selectors, "RANK_WINDOW", 2)
    now = timezone.now()
    best_but_oldest = TicketFactory(subject="Refund refund refund", created=now - timedelta(days=30))
    newer = [TicketFactory(original_description="A refund?", created=now - timedelta(days=days)) for days in (2, 1)]

    by_relevance = client.get(url("ticket_list"), {"q": "refund"}).context["page"]
    by_date = client.get(url("ticket_list"), {"q": "refund", "sort": "-created"}).context["page"]

    assert {t.pk for t in by_relevance.items} == {t.pk for t in newer}
    assert by_relevance.total == 3  # the count still covers every match
    assert [t.pk for t in by_date.items] == [newer[1].pk, newer[0].pk, best_but_oldest.pk]


def test_a_search_counts_its_matches_up_to_its_own_cap(client, login, monkeypatch):
    login("agent")
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 2)
    for _ in range(3):
        TicketFactory(subject="Refund please")

    page = client.get(url("ticket_list"), {"q": "refund"}).context["page"]
    everything = client.get(url("ticket_list")).context["page"]

    assert (page.total, page.total_capped) == (2, True)
    assert (everything.total, everything.total_capped) == (3, False)


def test_search_with_punctuation_only_lists_everything(client, login):
    login("agent")
    TicketFactory()

    assert len(list_ids(client, q="&|!:*()")) == 1


# --- Filters and views --------------------------------------------------------------------------


def test_filters_narrow_the_list(client, login):
    me = login("agent")
    colleague = login("agent")
    client.force_login(me)
    team, category = TeamFactory(), CategoryFactory()
    customer = CustomerFactory()
    requester = ContactFactory(customer=customer)
    mine = TicketFactory(assignee=me, status="open", priority="high", tags=["vip"], team=team)
    theirs = TicketFactory(assignee=colleague, status="pending", category=category, channel="email")
    nobody = TicketFactory(status="new", requester=requester, customer=customer)
    solved = TicketFactory(status="solved", assignee=me)

    assert list_ids(client, assignee="me", status="unsolved") == [mine.pk]
    assert list_ids(client, assignee="none") == [nobody.pk]
    assert list_ids(client, assignee=str(colleague.pk)) == [theirs.pk]
    assert list_ids(client, status="done") == [solved.pk]
    assert list_ids(client, status="pending") == [theirs.pk]
    assert list_ids(client, priority="high") == [mine.pk]
    assert list_ids(client, team=str(team.pk)) == [mine.pk]
    assert set(list_ids(client, team="none")) == {theirs.pk, nobody.pk, solved.pk}
    assert list_ids(client, category=str(category.pk)) == [theirs.pk]
    assert list_ids(client, channel="email") == [theirs.pk]
    assert list_ids(client, tag="VIP") == [mine.pk]
    assert list_ids(client, customer=str(customer.pk)) == [nobody.pk]
    assert list_ids(client, requester=str(requester.pk)) == [nobody.pk]


def test_bad_filter_values_are_ignored_not_errors(client, login):
    login("agent")
    TicketFactory()

    response = client.get(
        url("ticket_list"), {"status": "bogus", "assignee": "x'; drop", "sort": "nope", "cursor": "x"}
    )

    assert response.status_code == 200 and len(response.context["page"].items) == 1


def test_breaching_soon_lists_running_clocks_due_within_two_hours_nearest_first(client, login):
    login("agent")
    now = timezone.now()
    later = TicketFactory(status="open", sla_due_at=now + timedelta(minutes=90))
    overdue = TicketFactory(status="new", sla_due_at=now - timedelta(minutes=5))
    TicketFactory(status="open", sla_due_at=now + timedelta(hours=5))  # not soon
    TicketFactory(status="pending", sla_due_at=now + timedelta(minutes=10))  # clock stopped
    TicketFactory(status="solved", sla_due_at=now + timedelta(minutes=10))

    response = client.get(url("ticket_list"), {"sla": "breaching", "sort": "due"})

    assert [t.pk for t in response.context["page"].items] == [overdue.pk, later.pk]
    html = response.content.decode()
    assert "5 min overdue" in html and ("in 1 h 29 min" in html or "in 1 h 30 min" in html)


def test_sorting_by_priority_and_due(client, login):
    login("agent")
    now = timezone.now()
    low = TicketFactory(priority="low", sla_due_at=now + timedelta(hours=3))
    urgent = TicketFactory(priority="urgent")
    high = TicketFactory(priority="high", sla_due_at=now + timedelta(hours=1))

    assert list_ids(client, sort="-priority") == [urgent.pk, high.pk, low.pk]
    assert list_ids(client, sort="priority") == [low.pk, high.pk, urgent.pk]
    assert list_ids(client, sort="due") == [high.pk, low.pk, urgent.pk]  # no SLA last


def test_sort_headers_link_to_the_reverse_order(client, login):
    login("agent")

    html = client.get(url("ticket_list"), {"sort": "-priority"}).content.decode()

    assert "sort=priority" in html and 'aria-sort="descending"' in html


def test_rail_counts_every_view_in_one_query(client, login):
    me = login("agent")
    TicketFactory(assignee=me, status="open")
    TicketFactory(status="new")
    TicketFactory(status="solved")
    SavedViewFactory(name="Shared solved", filters={"status": "done"}, shared=True)

    rail = {view.key: view for view in client.get(url("ticket_list")).context["rail"]}

    counts = {key: view.count for key, view in rail.items()}
    assert counts["my-open"] == 1 and counts["unassigned"] == 1 and counts["open"] == 2
    assert counts["all"] == 3 and counts["solved"] == 1
    assert [view.name for view in rail.values() if view.saved] == ["Shared solved"]
    assert next(view for view in rail.values() if view.saved).count == 1


def test_view_counts_stop_at_the_cap(django_assert_num_queries):
    for _ in range(4):
        TicketFactory()

    with django_assert_num_queries(1):
        counts = selectors.ticket_counts([selectors.TicketFilters(), selectors.TicketFilters(status="done")], cap=3)

    assert counts == [(3, True), (0, False)]


def test_capped_rail_count_shows_a_plus(client, login, monkeypatch):
    login("agent")
    monkeypatch.setattr(views.selectors, "ticket_counts", lambda filter_sets: [(1000, True)] * len(filter_sets))

    html = client.get(url("ticket_list")).content.decode()

    assert 'data-testid="rail-count">1,000+</span>' in html


# --- Pages and query counts ---------------------------------------------------------------------


def test_the_pager_walks_forward_and_back(client, login, monkeypatch):
    login("agent")
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    tickets = [TicketFactory() for _ in range(5)]
    newest_first = [ticket.pk for ticket in reversed(tickets)]

    first = client.get(url("ticket_list"))
    page = first.context["page"]
    assert [t.pk for t in page.items] == newest_first[:2] and page.prev_cursor is None
    second = client.get(url("ticket_list"), {"cursor": page.next_cursor})
    assert [t.pk for t in second.context["page"].items] == newest_first[2:4]
    third = client.get(url("ticket_list"), {"cursor": second.context["page"].next_cursor})
    assert [t.pk for t in third.context["page"].items] == newest_first[4:]
    assert third.context["page"].next_cursor is None
    back = client.get(url("ticket_list"), {"cursor": third.context["page"].prev_cursor})
    assert [t.pk for t in back.context["page"].items] == newest_first[2:4]
    assert 'data-testid="page-next"' in first.content.decode()


@pytest.mark.parametrize("sort", ["-created", "-updated", "-priority", "due", "priority"])
def test_pages_in_every_sort_cover_every_ticket_once(client, login, monkeypatch, sort):
    login("agent")
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    now = timezone.now()
    created = {
        TicketFactory(priority=priority, sla_due_at=now + timedelta(minutes=minutes) if minutes else None).pk
        for priority, minutes in [("low", 5), ("urgent", 0), ("high", 5), ("low", 0), ("normal", 30), ("urgent", 1)]
    }
    seen, cursor = [], ""
    for _ in range(5):
        response = client.get(url("ticket_list"), {"sort": sort, "cursor": cursor})
        page = response.context["page"]
        seen += [ticket.pk for ticket in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(created)


def _queries_for_list(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url("ticket_list"))
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_list_query_count_is_small_and_constant_in_page_size(client, login):
    me = login("agent")
    team, category = TeamFactory(), CategoryFactory()
    SavedViewFactory(shared=True)
    for _ in range(3):
        TicketFactory(assignee=me, team=team, category=category, tags=["a"], sla_due_at=timezone.now())
    client.get(url("ticket_list"))  # warms the host → workspace cache and the tag suggestions
    few = _queries_for_list(client)

    for index in range(40):
        customer = CustomerFactory()
        TicketFactory(
            assignee=login("agent") if index % 5 == 0 else me,
            requester=ContactFactory(customer=customer),
            customer=customer,
            tags=["b", f"t{index}"],
        )
    client.force_login(me)
    client.get(url("ticket_list"))
    many = _queries_for_list(client)

    # search_path, session, user, page ids, page rows, count, saved views, rail counts, menus
    # (+ the tag suggestions when they are not cached: 10 at most)
    assert few == many <= 9
    cache.delete(selectors.TAGS_CACHE_KEY)
    assert _queries_for_list(client) == many + 1 <= 10


def test_search_fragment_query_count(client, login, django_assert_max_num_queries):
    login("agent")
    for _ in range(20):
        TicketFactory(subject="Printer broken")
    client.get(url("ticket_list"))

    with django_assert_max_num_queries(10):
        response = client.get(url("ticket_list"), {"q": "print"}, **htmx("ticket-table"))

    assert len(response.context["page"].items) == 20


# --- Saved views --------------------------------------------------------------------------------


def test_save_view_form_takes_the_lists_current_filters(client, login):
    login("agent")

    response = client.get(
        url("saved_view_create"), {"status": "unsolved", "q": "printer", "junk": "x"}, **htmx("modal-body")
    )

    html = response.content.decode()
    assert response.status_code == 200 and 'name="filters"' in html
    assert 'value="q=printer&amp;status=unsolved"' in html
    assert "Share with the whole workspace" not in html  # agents keep personal views


def test_save_view_stores_normalised_filters_and_lands_on_them(client, login):
    me = login("agent")

    response = client.post(
        url("saved_view_create"),
        {"name": "  My  VIPs ", "filters": "tag=VIP&status=unsolved&cursor=abc&x=1", "shared": "on"},
        **HTMX,
    )

    view = SavedView.objects.get()
    assert (view.name, view.owner, view.shared) == ("My VIPs", me, False)
    assert view.filters == {"status": "unsolved", "tag": "vip"}
    assert response["HX-Redirect"] == url("ticket_list") + "?status=unsolved&tag=vip"
    rail = client.get(url("ticket_list"), {"status": "unsolved", "tag": "vip"}).context["rail"]
    assert [view.name for view in rail if view.active] == ["My VIPs"]


def test_save_view_needs_a_name(client, login):
    login("agent")

    response = client.post(url("saved_view_create"), {"name": "  ", "filters": "status=new"}, **htmx("modal-body"))

    assert response.status_code == 200 and "Give the view a name." in response.content.decode()
    assert not SavedView.objects.exists()


def test_admins_may_share_views(client, login):
    login("admin")

    client.post(url("saved_view_create"), {"name": "Team queue", "filters": "team=none", "shared": "on"}, **HTMX)

    assert SavedView.objects.get().shared is True


def test_personal_views_are_private_and_deletable_by_their_owner(client, login):
    owner = login("agent")
    view = SavedViewFactory(owner=owner, shared=False, name="Mine only")
    other = login("agent")  # now signed in as someone else

    assert "Mine only" not in client.get(url("ticket_list")).content.decode()
    assert client.post(url("saved_view_delete", view.pk)).status_code == 404

    client.force_login(owner)
    assert 'data-testid="rail-view" data-view-key="view-' in client.get(url("ticket_list")).content.decode()
    response = client.post(url("saved_view_delete", view.pk), **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == url("ticket_list")
    assert not SavedView.objects.exists()
    assert other.pk != owner.pk


def test_only_admins_delete_someone_elses_shared_view(client, login):
    view = SavedViewFactory(owner=None, shared=True)
    login("agent")
    assert client.post(url("saved_view_delete", view.pk)).status_code == 403

    login("admin")
    assert client.get(url("saved_view_delete", view.pk), **htmx("modal-body")).status_code == 200
    client.post(url("saved_view_delete", view.pk))
    assert not SavedView.objects.exists()


# --- Bulk actions -------------------------------------------------------------------------------


def bulk(client, **data):
    return client.post(url("ticket_bulk"), data, **HTMX)


def test_bulk_assign_to_me_then_unassign(client, login):
    me = login("agent")
    first, second = TicketFactory(), TicketFactory()

    response = bulk(client, ids=[first.pk, second.pk], action="assign", assignee="me")

    assert response.status_code == 200 and "tickets:refresh" in response["HX-Trigger"]
    assert "Updated 2 tickets." in response.content.decode()
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {me.pk}
    bulk(client, ids=[first.pk], action="assign", assignee="none")
    first.refresh_from_db()
    assert first.assignee is None


def test_bulk_status_and_tags(client, login):
    login("agent")
    first, second = TicketFactory(tags=["a"]), TicketFactory()

    bulk(client, ids=[first.pk, second.pk], action="status", status="pending")
    bulk(client, ids=[first.pk, second.pk], action="tags", tags="Billing, a")

    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == ("pending", "pending")
    assert (first.tags, second.tags) == (["a", "billing"], ["billing", "a"])


def test_bulk_merge_into_the_chosen_target(client, login):
    login("agent")
    first, second, third = TicketFactory(), TicketFactory(), TicketFactory()
    TicketMessageFactory(ticket=third, body="from the third")

    response = bulk(client, ids=[first.pk, second.pk, third.pk], action="merge", target=second.pk)

    assert f"Merged 2 tickets into #{second.pk}." in response.content.decode()
    first.refresh_from_db(), third.refresh_from_db()
    assert first.merged_into == second and third.merged_into == second and third.status == "closed"
    assert TicketMessage.objects.filter(ticket=second, body="from the third").exists()


def test_bulk_merge_defaults_to_the_first_selected(client, login):
    login("agent")
    first, second = TicketFactory(), TicketFactory()

    bulk(client, ids=[second.pk, first.pk], action="merge", target="999999")

    first.refresh_from_db()
    assert first.merged_into == second


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "assign", "assignee": "me"}, "Select at least one ticket first."),
        ({"action": "merge"}, "Select two tickets or more to merge."),
        ({"action": "status"}, "Choose the new status."),
        ({"action": "tags", "tags": " , "}, "Type the tags to add."),
        ({"action": "assign", "assignee": "123456"}, "Choose a teammate who works tickets."),
        ({"action": "explode"}, "Select a valid choice."),
    ],
)
def test_bulk_errors_are_shown_and_change_nothing(client, login, data, message):
    login("agent")
    ticket = TicketFactory()
    if data["action"] != "assign" or data.get("assignee") != "me":
        data = {"ids": [ticket.pk], **data}

    response = bulk(client, **data)

    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="bulk-error"' in html and message in html
    assert "HX-Trigger" not in response
    ticket.refresh_from_db()
    assert ticket.version == 1


def test_bulk_service_refusal_is_shown(client, login):
    login("agent")
    closed, other = TicketFactory(status="closed"), TicketFactory()

    response = bulk(client, ids=[closed.pk, other.pk], action="merge", target=closed.pk)

    assert "is closed; merge into an open ticket." in response.content.decode()


# --- New ticket ---------------------------------------------------------------------------------


def test_create_form_is_a_modal_fragment_and_a_page(client, login):
    login("agent")

    fragment = client.get(url("ticket_create"), **htmx("modal-body")).content.decode()
    page = client.get(url("ticket_create")).content.decode()

    assert fragment.lstrip().startswith("<form") and 'enctype="multipart/form-data"' in fragment
    assert 'name="requester_email"' in fragment and 'list="requester-options"' in fragment
    assert "<html" in page and 'data-testid="ticket-form"' in page


def test_create_shows_every_field_error_and_saves_nothing(client, login):
    login("agent")

    response = client.post(
        url("ticket_create"),
        {"subject": " ", "description": "", "priority": "normal", "type": "question"},
        **htmx("modal-body"),
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-subject">The subject cannot be empty.' in html
    assert 'data-testid="error-description">The description cannot be empty.' in html
    assert 'data-testid="error-requester_email">Say who the ticket is for' in html
    assert not Ticket.objects.exists()


def test_create_refuses_a_bad_email_and_a_forbidden_attachment(client, login):
    login("agent")
    base = {"subject": "Hi", "description": "Body", "priority": "normal", "type": "question"}

    bad_email = client.post(url("ticket_create"), {**base, "requester_email": "nope"}, **htmx("modal-body"))
    script = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    bad_file = client.post(
        url("ticket_create"), {**base, "requester_email": "a@b.test", "attachments": [script]}, **htmx("modal-body")
    )

    assert "“nope” is not an email address." in bad_email.content.decode()
    assert 'data-testid="error-attachments">run.exe: .exe files are not accepted' in bad_file.content.decode()
    assert not Ticket.objects.exists()


def test_create_saves_the_ticket_with_attachments_and_opens_it(client, login):
    agent = login("agent")
    team, category = TeamFactory(), CategoryFactory()
    files = [SimpleUploadedFile("a.txt", b"alpha"), SimpleUploadedFile("b.log", b"beta")]

    response = client.post(
        url("ticket_create"),
        {
            "subject": "VPN drops",
            "description": "Every hour.",
            "requester_email": "Newbie@Globex.test",
            "requester_name": "New Bie",
            "priority": "high",
            "type": "incident",
            "category": category.pk,
            "team": team.pk,
            "assignee": agent.pk,
            "tags": "vpn, Network",
            "attachments": files,
        },
        **htmx("modal-body"),
    )

    ticket = Ticket.objects.get()
    assert response["HX-Redirect"] == url("ticket_detail", ticket.pk)
    assert (ticket.priority, ticket.type, ticket.category, ticket.team, ticket.assignee) == (
        "high", "incident", category, team, agent,
    )  # fmt: skip
    assert ticket.tags == ["vpn", "network"] and ticket.requester.name == "New Bie"
    assert sorted(a.filename for m in ticket.messages.all() for a in m.attachments.all()) == ["a.txt", "b.log"]


def test_requester_suggestions_offer_matching_contacts(client, login):
    login("agent")
    ContactFactory(name="Hank Scorpio", email="hank@globex.test")
    ContactFactory(name="Marge", email="marge@springfield.test")

    html = client.get(url("requester_suggestions"), {"requester_email": "glob"}).content.decode()

    assert html.startswith('<datalist id="requester-options">')
    assert 'value="hank@globex.test"' in html and "marge" not in html


# --- Ticket page --------------------------------------------------------------------------------


def test_detail_shows_header_thread_composer_and_sidebar(client, login):
    me = login("agent")
    customer = CustomerFactory(name="Globex", tier="enterprise")
    ticket = TicketFactory(subject="Printer on fire", customer=customer, requester=ContactFactory(customer=customer))
    TicketMessageFactory(ticket=ticket, kind="reply", body="We are on it.", author=me)
    TicketMessageFactory(ticket=ticket, kind="note", body="Call the fire brigade?")
    attachment = AttachmentFactory(message__ticket=ticket, filename="smoke.txt")
    other = TicketFactory(customer=customer, subject="Older issue")

    response = client.get(url("ticket_detail", ticket.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="ticket-subject"' in html and 'value="Printer on fire"' in html
    assert 'class="card mb-2 sb-entry sb-reply" data-testid="thread-message" data-kind="reply"' in html
    assert 'class="card mb-2 sb-entry sb-note" data-testid="thread-message" data-kind="note"' in html
    assert "Internal note" in html and "Call the fire brigade?" in html
    assert url("attachment_download", attachment.pk) in html and "smoke.txt" in html
    assert 'data-testid="composer"' in html and 'name="status" value="pending"' in html
    assert reverse("customers:customer_detail", args=[customer.pk]) in html and "Enterprise" in html
    assert f"#{other.pk} Older issue" in html
    assert 'data-testid="sla-card"' in html
    assert 'id="presence-ticket-' in html and 'ws-connect="/ws/live/?topic=' in html


def test_detail_query_count_does_not_grow_with_the_thread(client, login):
    login("agent")
    ticket = TicketFactory()
    AttachmentFactory(message=TicketMessageFactory(ticket=ticket))  # every kind of row the page reads, once
    client.get(url("ticket_detail", ticket.pk))
    before = _detail_queries(client, ticket)

    for index in range(15):
        message = TicketMessageFactory(ticket=ticket, body=f"Message {index}")
        AttachmentFactory(message=message)
        services.ticket_update(ticket=ticket, actor=None, data={"priority": ["low", "high"][index % 2]})

    assert _detail_queries(client, ticket) == before


def _detail_queries(client, ticket) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url("ticket_detail", ticket.pk)).status_code == 200
    return len(captured.captured_queries)


def test_unknown_ticket_is_404(client, login):
    login("agent")

    assert client.get(url("ticket_detail", 987654)).status_code == 404


def test_viewer_sees_no_controls(client, login):
    login("viewer")
    ticket = TicketFactory()

    list_html = client.get(url("ticket_list")).content.decode()
    detail_html = client.get(url("ticket_detail", ticket.pk)).content.decode()

    assert 'data-testid="ticket-new"' not in list_html and "sb-no-bulk" in list_html
    assert 'data-testid="bulk-bar"' not in list_html
    assert 'data-testid="composer"' not in detail_html and 'name="priority"' not in detail_html
    assert '<h1 class="fs-4 fw-semibold mb-0" data-testid="ticket-subject">' in detail_html


# --- Editing fields ---------------------------------------------------------------------------------


def edit(client, ticket, **data):
    return client.post(url("ticket_update", ticket.pk), data, **htmx("ticket-header"))


def test_a_single_field_saves_alone_and_the_header_comes_back_fresh(client, login):
    me = login("agent")
    ticket = TicketFactory(priority="normal", subject="Old subject")

    response = edit(client, ticket, version=1, priority="urgent")

    html = response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.subject, ticket.version) == ("urgent", "Old subject", 2)
    assert html.lstrip().startswith('<section id="ticket-header"') and 'data-version="2"' in html
    assert '<option value="urgent" selected>' in html
    assert '<section id="ticket-thread" hx-swap-oob="true"' in html
    event = TicketEvent.objects.get(ticket=ticket, kind="updated")
    assert event.actor == me and event.data["changes"] == {"priority": ["normal", "urgent"]}


def test_assign_to_me_status_and_subject_edits(client, login):
    me = login("agent")
    ticket = TicketFactory(status="new")

    edit(client, ticket, version=1, assignee="me")
    ticket.refresh_from_db()
    assert ticket.assignee == me and ticket.status == "open"
    edit(client, ticket, version=ticket.version, status="solved")
    edit(client, Ticket.objects.get(), version=Ticket.objects.get().version, subject="  New subject ", tags="a, B")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.subject, ticket.tags) == ("solved", "New subject", ["a", "b"])
    edit(client, ticket, version=ticket.version, assignee="none")
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_a_stale_edit_saves_nothing_and_shows_the_fresh_values_and_what_was_tried(client, login):
    login("agent")
    colleague = login("agent", name="Dana Scully")
    ticket = TicketFactory(priority="normal")
    services.ticket_update(ticket=ticket, actor=colleague, data={"priority": "high"}, expected_version=1)
    client.force_login(login("agent"))

    response = edit(client, ticket, version=1, priority="urgent")

    html = response.content.decode()
    ticket.refresh_from_db()
    assert ticket.priority == "high" and ticket.version == 2
    assert response.status_code == 200 and 'data-testid="ticket-conflict"' in html
    assert "Someone else changed this ticket while you were editing it." in html
    assert "<strong>Priority</strong> → Urgent" in html
    assert '<option value="high" selected>' in html and 'data-version="2"' in html
    assert '<input type="hidden" name="priority" value="urgent">' in html  # "apply my change anyway" keeps it


def test_a_stale_edit_without_javascript_answers_409_with_the_page(client, login):
    login("agent")
    ticket = TicketFactory()
    services.ticket_update(ticket=ticket, actor=None, data={"priority": "high"})

    response = client.post(url("ticket_update", ticket.pk), {"version": 1, "priority": "low"})

    assert response.status_code == 409 and "<html" in response.content.decode()


def test_an_empty_subject_is_refused_with_its_message(client, login):
    login("agent")
    ticket = TicketFactory(subject="Keep me")

    html = edit(client, ticket, version=1, subject=" ").content.decode()

    ticket.refresh_from_db()
    assert ticket.subject == "Keep me" and "The subject cannot be empty." in html


def test_an_edit_without_a_version_is_refused(client, login):
    login("agent")
    ticket = TicketFactory()

    html = edit(client, ticket, priority="low").content.decode()

    ticket.refresh_from_db()
    assert ticket.priority == "normal" and 'data-testid="ticket-errors"' in html


def test_refresh_gives_any_member_the_header_and_thread(client, login):
    login("viewer")
    ticket = TicketFactory()

    html = client.get(url("ticket_refresh", ticket.pk), **htmx("ticket-header")).content.decode()

    assert html.lstrip().startswith('<section id="ticket-header"') and 'id="ticket-thread" hx-swap-oob="true"' in html
    assert 'name="priority"' not in html


# --- Replies and notes --------------------------------------------------------------------------


def reply(client, ticket, **data):
    return client.post(url("ticket_reply", ticket.pk), data, **htmx("ticket-composer"))


def test_reply_and_set_pending_in_one_step(client, login):
    me = login("agent")
    ticket = TicketFactory(status="new")

    response = reply(client, ticket, kind="reply", body="Please send a screenshot.", status="pending")

    html = response.content.decode()
    message = TicketMessage.objects.get(ticket=ticket)
    ticket.refresh_from_db()
    assert (message.kind, message.author, message.body) == ("reply", me, "Please send a screenshot.")
    assert ticket.status == "pending" and ticket.first_responded_at is not None
    assert html.lstrip().startswith('<section id="ticket-composer"')
    assert '<section id="ticket-header" class="card mb-3" hx-swap-oob="true"' in html
    assert f'id="message-{message.pk}"' in html and "Reply sent on" in html
    # History shows the status change; the reply itself is the message, not a second "Replied" line.
    assert "Status changed" in html and "· Public reply" not in html and "· Replied" not in html


@pytest.fixture
def sla_policy():
    return SLAPolicyFactory(calendar=BusinessCalendarFactory(always_open=True), first_response_minutes=60)


def sla_ticket(**fields) -> Ticket:
    """A ticket whose clocks run under `sla_policy` (the engine sets them, as the intake does)."""
    ticket = TicketFactory(last_customer_message_at=timezone.now(), **fields)
    sla.ticket_sla_refresh(ticket)
    ticket.refresh_from_db()
    assert ticket.first_response_due is not None
    return ticket


def section(html: str, dom_id: str) -> str:
    """The element with id `dom_id` (its opening tag up to the next element of the response's top level)."""
    match = re.search(rf'<(section|span) id="{dom_id}"[^>]*>.*?</\1>', html, re.S)
    assert match, f"no #{dom_id} in the response"
    return match.group(0)


def test_a_reply_response_brings_the_sla_card_and_the_status_hint_up_to_date(client, login, sla_policy):
    login("agent")
    ticket = sla_ticket(status="new")

    html = reply(client, ticket, kind="reply", body="Looking into it.").content.decode()

    card = section(html, "sla-card")
    assert 'hx-swap-oob="true"' in card.split(">", 1)[0]
    assert 'data-testid="sla-timer-first_response"' in card and "Met" in card
    composer = html.split('<section id="ticket-header"', 1)[0]  # the composer, swapped in place
    assert section(composer, "status-hint").endswith(">Now open</span>")


def test_a_status_set_in_the_header_updates_the_sla_card_and_the_composers_hint(client, login, sla_policy):
    login("agent")
    ticket = sla_ticket(status="open")

    html = edit(client, ticket, version=ticket.version, status="pending").content.decode()

    assert 'hx-swap-oob="true"' in section(html, "sla-card") and "Paused" in section(html, "sla-card")
    hint = section(html, "status-hint")
    assert 'hx-swap-oob="true"' in hint and hint.endswith(">Now pending</span>")


def test_a_refresh_for_a_viewer_sends_no_status_hint_they_have_no_composer_for(client, login):
    login("viewer")
    ticket = TicketFactory()

    html = client.get(url("ticket_refresh", ticket.pk), **htmx("ticket-header")).content.decode()

    assert 'id="sla-card"' in html and 'id="status-hint"' not in html


def test_internal_note_with_attachments_keeps_the_note_tab(client, login):
    login("agent")
    ticket = TicketFactory(status="open")

    response = reply(
        client, ticket, kind="note", body="Checked the logs.", attachments=[SimpleUploadedFile("log.txt", b"x")]
    )

    message = TicketMessage.objects.get(ticket=ticket)
    assert message.kind == "note" and [a.filename for a in message.attachments.all()] == ["log.txt"]
    assert 'id="kind-note" value="note" autocomplete="off" checked' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None  # a note is no response to the customer


def test_empty_reply_is_refused_in_the_composer(client, login):
    login("agent")
    ticket = TicketFactory()

    response = reply(client, ticket, kind="reply", body="   ")

    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="error-body">The message cannot be empty.' in html
    assert not TicketMessage.objects.exists()


def test_oversized_reply_attachment_is_refused(client, login, settings):
    login("agent")
    settings.HELPDESK_ATTACHMENT_MAX_BYTES = 3
    ticket = TicketFactory()

    html = reply(client, ticket, kind="reply", body="See file", attachments=[SimpleUploadedFile("big.txt", b"12345")])

    assert "big.txt is 5" in html.content.decode() and not TicketMessage.objects.exists()


def test_reply_without_javascript_redirects_to_the_ticket(client, login):
    login("agent")
    ticket = TicketFactory()

    response = client.post(url("ticket_reply", ticket.pk), {"kind": "reply", "body": "Hello"})

    assert response.status_code == 302 and response["Location"] == url("ticket_detail", ticket.pk)


# --- Attachments --------------------------------------------------------------------------------


def test_attachment_downloads_as_a_file_never_inline(client, login):
    login("viewer")
    attachment = AttachmentFactory(
        filename="page.html", content_type="text/html", file=ContentFile(b"<script>x</script>", name="page.html")
    )

    response = client.get(url("attachment_download", attachment.pk))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == b"<script>x</script>"


def test_attachment_needs_a_signed_in_member_and_an_existing_file(client, login):
    attachment = AttachmentFactory()

    anonymous = client.get(url("attachment_download", attachment.pk))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    login("viewer")
    assert client.get(url("attachment_download", 987654)).status_code == 404
    attachment.file.delete(save=False)
    assert client.get(url("attachment_download", attachment.pk)).status_code == 404


# --- Who may write ------------------------------------------------------------------------------


def test_viewers_cannot_write(client, login):
    login("viewer")
    ticket = TicketFactory()

    assert client.post(url("ticket_create"), {"subject": "x"}).status_code == 403
    assert (
        client.post(url("ticket_bulk"), {"ids": [ticket.pk], "action": "status", "status": "solved"}).status_code == 403
    )
    assert client.post(url("ticket_update", ticket.pk), {"version": 1, "priority": "low"}).status_code == 403
    assert client.post(url("ticket_reply", ticket.pk), {"kind": "reply", "body": "x"}).status_code == 403
    assert client.get(url("requester_suggestions")).status_code == 403
    ticket.refresh_from_db()
    assert ticket.version == 1 and not TicketMessage.objects.exists()


def test_every_view_declares_its_capability():
    from helpdesk.urls.tickets import urlpatterns

    for pattern in urlpatterns:
        assert getattr(pattern.callback, "required_capability", None), pattern.name


# --- Workspace admin ----------------------------------------------------------------------------


def test_owner_finds_tickets_in_the_workspace_admin_and_history_stays_read_only(client, make_user):
    from accounts.admin_site import workspace_admin_site

    client.force_login(make_user("owner", is_staff=True))
    ticket = TicketFactory(subject="Printer on fire", status="open", tags=["hardware"])
    TicketFactory(subject="Invoice question")
    TicketMessageFactory(ticket=ticket, body="Checked the toner.")
    event = services.ticket_update(ticket=ticket, actor=None, data={"priority": "high"}).events.get(kind="updated")

    listing = client.get("/admin/helpdesk/ticket/", {"q": "printer", "status__exact": "open"})
    change = client.get(f"/admin/helpdesk/ticket/{ticket.pk}/change/")
    history = client.get(f"/admin/helpdesk/ticketevent/{event.pk}/change/")

    assert listing.status_code == 200
    assert "Printer on fire" in listing.content.decode() and "Invoice question" not in listing.content.decode()
    assert change.status_code == 200 and "Checked the toner." in change.content.decode()
    assert history.status_code == 200 and 'name="kind"' not in history.content.decode()
    assert client.get("/admin/helpdesk/ticketevent/add/").status_code == 403
    for model in (Ticket, TicketMessage, TicketEvent, SavedView):
        assert workspace_admin_site.is_registered(model)
    for path in ("team", "category", "slapolicy", "article", "businesscalendar", "agentprofile", "savedview"):
        assert client.get(f"/admin/helpdesk/{path}/").status_code == 200, path
