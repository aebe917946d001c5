"""The quote list's reads: sorting by validity keeps the quotes that have no validity date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from quotes import selectors

from .factories import QuoteFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("sort", ["valid_until", "-valid_until"])
def test_sorting_by_validity_keeps_quotes_without_a_date_across_pages(sort):
    today = date(2026, 12, 7)
    for day in range(3):
        QuoteFactory(title=f"Dated {day}", valid_until=today + timedelta(days=day))
    QuoteFactory.create_batch(2, title="Open-ended", valid_until=None)

    titles, cursor = [], None
    while True:
        page = selectors.quote_list(sort=sort, cursor=cursor, page_size=2)
        titles += [quote.title for quote in page.items]
        if not (cursor := page.next_cursor):
            break
    dated = ["Dated 0", "Dated 1", "Dated 2"]
    expected = [*dated, "Open-ended", "Open-ended"] if sort == "valid_until" else ["Open-ended"] * 2 + dated[::-1]
    assert titles == expected and page.total == 5
