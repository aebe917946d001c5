"""Quote pages and fragments: list (filters, empty state, query count), create from a lead or a company, the
builder's live fragments, version conflicts, reorder, status, revisions, roles, catalog pages and CSV."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads import services as lead_services
from quotes import services
from quotes.models import Product, Quote, QuoteStatus

from .factories import QuoteFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, *args) -> str:
    return reverse(f"quotes:{name}", args=args)


@pytest.fixture
def quote(customer, contact):
    return services.quote_create(actor=None, customer_id=customer.pk, contact_id=contact.pk, title="Rollout")


def test_the_list_filters_searches_sorts_and_its_query_count_does_not_grow(client, login, customer):
    login("sales")
    for index in range(3):
        QuoteFactory(customer=customer, title=f"Alpha {index}", total=Decimal(index))
    QuoteFactory(customer=customer, title="Beta", status=QuoteStatus.SENT)
    with CaptureQueriesContext(connection) as few:
        client.get(url("quote_list"))
    QuoteFactory.create_batch(10, customer=customer)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("quote_list"))
    assert len(many) == len(few)
    assert 'data-testid="nav-quotes"' in response.content.decode()

    html = client.get(
        url("quote_list"), {"q": "alpha", "sort": "-total"}, **HTMX, HTTP_HX_TARGET="quote-table"
    ).content.decode()
    assert html.index("Alpha 2") < html.index("Alpha 1") and "Beta" not in html and "<html" not in html
    assert "Beta" in client.get(url("quote_list"), {"status": "sent"}).content.decode()


def test_the_empty_list_invites_a_first_quote(client, login):
    login("sales")
    html = client.get(url("quote_list")).content.decode()
    assert 'data-testid="quote-list-empty"' in html and "Create your first quote" in html


def test_new_quote_from_a_lead_page_opens_the_builder(client, login, customer):
    user = login("sales")
    lead = lead_services.lead_create(actor=None, title="Big deal", customer=customer)
    lead_page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert 'data-testid="lead-new-quote"' in lead_page
    form = client.get(url("quote_create"), {"lead": lead.pk}).content.decode()
    assert re.search(rf'<option value="{lead.pk}" selected>', form)

    response = client.post(url("quote_create"), {"lead": lead.pk, "currency": "EUR"})
    quote = Quote.objects.get(lead=lead)
    assert response.status_code == 302 and response.url == url("quote_detail", quote.pk)
    assert quote.owner == user and quote.customer == customer and quote.currency == "EUR"
    assert "Q-" in client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()


def test_the_company_page_lists_its_quotes_with_new_quote(client, login, quote, customer):
    login("sales")
    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert 'data-testid="customer-new-quote"' in html and quote.reference in html


def test_a_line_edit_answers_with_the_line_amount_and_the_totals_only(client, login, quote, product):
    login("sales")
    line = services.quote_line_add(quote=quote, actor=None, product=product)
    response = client.post(url("line_update", line.pk), {"version": line.quote.version, "quantity": "3"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<td id="line-{line.pk}-net"') and ">147.00<" in html  # 3 × 49
    assert 'id="quote-totals"' in html and ">176.40<" in html and 'hx-swap-oob="true"' in html  # +20 % tax
    assert f'value="{line.quote.version + 1}" id="quote-version"' in html
    assert 'id="quote-lines"' not in html  # the other lines are not rendered again


def test_a_stale_edit_is_refused_with_the_conflict_and_apply_anyway(client, login, quote, product):
    login("sales")
    line = services.quote_line_add(quote=quote, actor=None, product=product)
    seen = line.quote.version
    services.quote_line_update(line=line, actor=None, data={"quantity": "2"})  # someone else

    html = client.post(url("line_update", line.pk), {"version": seen, "quantity": "9"}, **HTMX).content.decode()
    assert 'data-testid="quote-conflict"' in html and "Apply my change anyway" in html
    assert 'name="quantity" value="9"' in html
    line.refresh_from_db()
    assert line.quantity == 2
    assert client.post(url("line_update", line.pk), {"version": seen, "quantity": "9"}).status_code == 409

    retry = re.search(r'<input type="hidden" name="version" value="(\d+)">', html).group(1)
    client.post(url("line_update", line.pk), {"version": retry, "quantity": "9"}, **HTMX)
    line.refresh_from_db()
    assert line.quantity == 9


def test_lines_are_added_from_the_catalog_search_reordered_and_moved(client, login, quote, product):
    login("sales")
    found = client.get(url("product_search", quote.pk), {"q": "pro"}, **HTMX).content.decode()
    assert "Pro seat" in found and "49 USD" in found
    added = client.post(url("line_add", quote.pk), {"product": product.pk, "version": quote.version}, **HTMX)
    assert added.content.decode().lstrip().startswith('<tr id="line-')
    quote.refresh_from_db()
    client.post(
        url("line_add", quote.pk), {"kind": "section", "description": "Licences", "version": quote.version}, **HTMX
    )
    quote.refresh_from_db()
    first, heading = list(quote.lines.all())
    client.post(url("lines_reorder", quote.pk), {"line": [heading.pk, first.pk], "version": quote.version}, **HTMX)
    assert list(quote.lines.values_list("id", flat=True)) == [heading.pk, first.pk]
    quote.refresh_from_db()
    moved = client.post(url("line_move", heading.pk), {"direction": "down", "version": quote.version}, **HTMX)
    assert 'id="quote-lines"' in moved.content.decode()
    assert list(quote.lines.values_list("id", flat=True)) == [first.pk, heading.pk]


def test_sending_then_editing_keeps_the_sent_revision_readable(client, login, quote, product):
    login("sales")
    services.quote_line_add(quote=quote, actor=None, product=product)
    quote.refresh_from_db()
    response = client.post(url("quote_status", quote.pk), {"status": "sent", "version": quote.version})
    assert response.status_code == 302
    line = quote.lines.get()
    services.quote_line_update(line=line, actor=None, data={"quantity": "4"})
    revision = quote.revisions.get()
    page = client.get(url("quote_revision", revision.pk)).content.decode()
    assert ">58.80<" in page  # 1 × 49 + 20 %, as sent
    assert "revision 2" in client.get(url("quote_detail", quote.pk)).content.decode()


def test_margin_and_costs_are_for_sellers_only(client, login, quote, product):
    services.quote_line_add(quote=quote, actor=None, product=product)
    login("sales")
    assert 'data-testid="quote-margin"' in client.get(url("quote_detail", quote.pk)).content.decode()
    login("agent")
    html = client.get(url("quote_detail", quote.pk)).content.decode()
    assert 'data-testid="quote-margin"' not in html and 'id="product-search"' not in html  # read-only
    assert "30 USD" not in client.get(url("product_list")).content.decode()
    assert (
        client.post(url("line_add", quote.pk), {"kind": "section", "description": "x", "version": 1}).status_code == 403
    )


def _file(text: str) -> io.BytesIO:
    upload = io.BytesIO(text.encode())
    upload.name = "catalog.csv"
    return upload


def test_the_catalog_imports_with_a_row_report_and_exports_what_it_reads(client, login, product):
    login("sales")
    csv = (
        "sku,name,tax_rate,price_usd,price_eur,cost,active\n"
        "SEAT-PRO,Pro seat (new name),20,55,,30,yes\n"
        "NEW-1,New thing,10,12.50,11,5,yes\n"
        "BAD,,200,abc,,,maybe\n"
    )
    upload = _file(csv)
    page = client.post(url("catalog_import"), {"file": upload, "mode": "all"}).content.decode()
    assert 'data-testid="import-error"' in page and "The name is empty" in page
    assert not Product.objects.filter(sku="NEW-1").exists()

    upload = _file(csv)
    client.post(url("catalog_import"), {"file": upload, "mode": "valid_only"})
    product.refresh_from_db()
    assert product.name == "Pro seat (new name)" and product.prices.get(currency="USD").unit_price == 55
    assert product.prices.get(currency="EUR").unit_price == 45  # empty cell: kept
    exported = b"".join(client.get(url("catalog_export")).streaming_content).decode()
    assert "NEW-1,New thing" in exported and exported.splitlines()[0].lstrip("\ufeff").startswith("sku,name")
