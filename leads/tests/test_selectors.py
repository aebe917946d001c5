"""Lead reads: the board's columns, counts and totals in constant queries; column pages; the filtered list."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from leads import selectors
from leads.selectors import LeadFilters

from .factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_board_shows_every_stage_with_count_total_and_first_cards_in_order(pipeline, stages):
    prospect = stages["Prospect"]
    LeadFactory(title="Second", stage=prospect, position=2, value=Decimal("100"))
    LeadFactory(title="First", stage=prospect, position=1, value=Decimal("250"))
    LeadFactory(title="Euro", stage=prospect, position=3, value=Decimal("40"), currency="EUR")

    board = selectors.lead_board(pipeline=pipeline, per_column=2)

    assert [column.stage.name for column in board.columns] == list(stages)
    first = board.columns[0]
    assert [lead.title for lead in first.cards] == ["First", "Second"]
    assert first.summary.count == 3
    assert first.summary.totals == (("USD", Decimal("350")), ("EUR", Decimal("40")))
    assert first.next_cursor is not None
    assert all(column.summary.count == 0 and not column.cards for column in board.columns[1:])


@pytest.mark.parametrize("leads_per_stage", [1, 30])
def test_board_costs_three_queries_however_many_leads(pipeline, stages, leads_per_stage, django_assert_num_queries):
    owner = UserFactory()
    for stage in stages.values():
        LeadFactory.create_batch(leads_per_stage, stage=stage, owner=owner)

    with django_assert_num_queries(3):  # stages, counts and totals, first cards of every column
        board = selectors.lead_board(pipeline=pipeline, per_column=10)
        for column in board.columns:
            for lead in column.cards:
                assert lead.owner.email and lead.stage.name  # joined, not fetched per card


def test_column_pages_continue_where_the_board_stopped(pipeline, stages):
    prospect = stages["Prospect"]
    for index in range(7):
        LeadFactory(title=f"L{index}", stage=prospect, position=index)
    board = selectors.lead_board(pipeline=pipeline, per_column=3)
    cursor = board.columns[0].next_cursor
    seen = [lead.title for lead in board.columns[0].cards]

    while cursor:
        page = selectors.lead_column_page(stage=prospect, cursor=cursor, page_size=3)
        seen += [lead.title for lead in page.items]
        cursor = page.next_cursor

    assert seen == [f"L{index}" for index in range(7)]


def test_column_page_costs_one_query(stages, django_assert_num_queries):
    LeadFactory.create_batch(5, stage=stages["Prospect"])
    with django_assert_num_queries(1):
        page = selectors.lead_column_page(stage=stages["Prospect"], cursor=None, page_size=3)
        assert all(lead.owner.email for lead in page.items)


def test_lead_list_filters_by_stage_owner_source_status_and_search(stages):
    owner = UserFactory()
    match = LeadFactory(title="Helpdesk seats", stage=stages["Proposal"], owner=owner, source="referral")
    LeadFactory(title="Helpdesk seats", stage=stages["Proposal"], source="referral")
    LeadFactory(title="Other", stage=stages["Proposal"], owner=owner, source="referral")
    LeadFactory(title="Helpdesk lost", stage=stages["Lost"], owner=owner, source="referral")

    filters = LeadFilters(q="helpdesk", stage_id=stages["Proposal"].pk, owner_id=owner.pk, source="referral")
    assert [lead.pk for lead in selectors.lead_list(filters=filters).items] == [match.pk]
    lost = selectors.lead_list(filters=LeadFilters(status="lost"))
    assert [lead.title for lead in lost.items] == ["Helpdesk lost"] and lost.total == 1


@pytest.mark.parametrize("sort", ["-updated", "value", "-expected_close", "created"])
def test_lead_list_costs_two_queries_in_any_sort(stages, sort, django_assert_num_queries):
    LeadFactory.create_batch(4, stage=stages["Prospect"])
    with django_assert_num_queries(2):  # the page, the count
        page = selectors.lead_list(sort=sort, page_size=2)
        assert all(lead.stage.name for lead in page.items)


def test_lead_get_brings_history_and_activities_in_fixed_queries(stages, django_assert_num_queries):
    from leads import services

    lead = services.lead_create(actor=None, title="Deal")
    services.lead_move(lead=lead, stage=stages["Proposal"], position=0, actor=None)
    services.lead_activity_create(lead=lead, actor=None, subject="Call")

    with django_assert_num_queries(3):  # the lead, its history, its activities
        fetched = selectors.lead_get(lead_id=lead.pk)
        assert [change.to_stage.name for change in fetched.stage_changes.all()] == ["Proposal", "Prospect"]
        assert [activity.subject for activity in fetched.activities.all()] == ["Call"]


@pytest.mark.parametrize("sort", ["expected_close", "-expected_close"])
def test_sorting_by_close_date_keeps_leads_without_one_across_pages(stages, sort):
    today = date(2026, 12, 7)
    for day in range(3):
        LeadFactory(title=f"Dated {day}", stage=stages["Prospect"], expected_close=today + timedelta(days=day))
    LeadFactory.create_batch(2, title="Undated", stage=stages["Prospect"], expected_close=None)

    titles, cursor = [], None
    while True:
        page = selectors.lead_list(sort=sort, cursor=cursor, page_size=2)
        titles += [lead.title for lead in page.items]
        if not (cursor := page.next_cursor):
            break
    dated = ["Dated 0", "Dated 1", "Dated 2"]
    expected = [*dated, "Undated", "Undated"] if sort == "expected_close" else ["Undated", "Undated", *dated[::-1]]
    assert titles == expected
