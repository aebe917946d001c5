"""Every non-trivial read of quotes: the filtered list (keyset pages), one quote with its lines and their amounts,
the builder's catalog search, the catalog list, revisions, and what the copilot learns from (accepted quotes)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from core.day_ranges import day_range_q
from core.keyset import KeysetOrder, Page, count_up_to, paginate

from .models import (
    BundleItem,
    Product,
    ProductPrice,
    ProductRelation,
    Quote,
    QuoteAcceptance,
    QuoteLine,
    QuoteRevision,
)
from .totals import Margin, Totals, quote_margin, quote_totals

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
COUNT_CAP = 10_000
LIST_CURSOR_SALT = "quotes.quote_list"
PRODUCT_CURSOR_SALT = "quotes.product_list"
SEARCH_LIMIT = 8
LIST_SORT_KEYS: dict[str, tuple[str, ...]] = {
    "number": ("number",),
    "updated": ("updated", "id"),
    "total": ("total", "id"),
    "valid_until": ("validity_rank", "id"),
}
# Quotes without a validity date sort after every dated one (latest first: before them): a keyset cannot seek past
# NULLs, and dropping them from the list would hide quotes.
NO_VALIDITY_DATE = date(9999, 12, 31)
OWNER_FIELDS_UNSHOWN = ("owner__password", "owner__last_login", "owner__date_joined")


@dataclass(frozen=True)
class QuoteFilters:
    q: str = ""
    status: str = ""
    owner_id: int | None = None
    customer_id: int | None = None
    lead_id: int | None = None
    unowned: bool = False
    currency: str = ""
    # Days in settings.TIME_ZONE, inclusive, as insights' rollups of quote_rollup_facts count them: a dashboard's
    # figure drills down to the same quotes. Answered: accepted, declined or expired, by closed_at.
    created_from: date | None = None
    created_to: date | None = None
    sent_from: date | None = None
    sent_to: date | None = None
    answered_from: date | None = None
    answered_to: date | None = None

    @property
    def active(self) -> bool:
        return any(dataclasses.astuple(self))


# The answers a quote's closed_at dates (quotes.facade.quote_rollup_facts' "closed"): an expiry is one too.
ANSWERED_STATUSES = ("accepted", "declined", "expired")


def parse_sort(sort: str | None) -> tuple[str, bool]:
    """ "-total" → ("total", True); anything unknown is the newest number first."""
    sort = (sort or "").strip()
    name = sort.lstrip("-")
    if name not in LIST_SORT_KEYS:
        return "number", True
    return name, sort.startswith("-")


def _rows(queryset: QuerySet[Quote]) -> QuerySet[Quote]:
    return queryset.select_related("customer", "contact", "owner", "lead").defer(
        *OWNER_FIELDS_UNSHOWN, "customer__search_text"
    )


def _matching(filters: QuoteFilters) -> QuerySet[Quote]:
    queryset = Quote.objects.all()
    text = filters.q.strip()
    if text:
        number = text.upper().removeprefix("Q-").lstrip("0")
        match = Q(title__icontains=text) | Q(customer__name__icontains=text)
        if number.isdigit():
            match |= Q(number=int(number))
        queryset = queryset.filter(match)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.owner_id is not None:
        queryset = queryset.filter(owner_id=filters.owner_id)
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    if filters.lead_id is not None:
        queryset = queryset.filter(lead_id=filters.lead_id)
    if filters.unowned:
        queryset = queryset.filter(owner__isnull=True)
    if filters.currency:
        queryset = queryset.filter(currency=filters.currency)
    queryset = queryset.filter(day_range_q("created", filters.created_from, filters.created_to))
    if filters.sent_from or filters.sent_to:
        queryset = queryset.filter(day_range_q("sent_at", filters.sent_from, filters.sent_to))
    if filters.answered_from or filters.answered_to:
        queryset = queryset.filter(
            day_range_q("closed_at", filters.answered_from, filters.answered_to), status__in=ANSWERED_STATUSES
        )
    return queryset


def quote_queryset(*, filters: QuoteFilters | None = None, sort: str | None = None) -> QuerySet[Quote]:
    """Filtered quotes as rows show them, with what `sort` orders by (the API pages them itself)."""
    rows = _rows(_matching(filters or QuoteFilters()))
    if parse_sort(sort)[0] == "valid_until":
        rows = rows.annotate(validity_rank=Coalesce("valid_until", Value(NO_VALIDITY_DATE)))
    return rows


def quote_order(sort: str | None) -> KeysetOrder:
    name, descending = parse_sort(sort)
    return KeysetOrder(keys=LIST_SORT_KEYS[name], descending=descending)


def quote_list(
    *, filters: QuoteFilters | None = None, sort: str | None = None, cursor: str | None = None, page_size: int = 50
) -> Page[Quote]:
    """One page of quotes (1 query) and how many match, counted up to COUNT_CAP (1 query)."""
    filters = filters or QuoteFilters()
    page = paginate(
        quote_queryset(filters=filters, sort=sort),
        order=quote_order(sort),
        cursor=cursor,
        page_size=max(1, min(page_size, MAX_PAGE_SIZE)),
        salt=LIST_CURSOR_SALT,
    )
    total, capped = count_up_to(_matching(filters), COUNT_CAP)
    return dataclasses.replace(page, total=total, total_capped=capped)


def owner_choices() -> QuerySet:
    """Active teammates who may own a quote."""
    return get_user_model().objects.filter(is_active=True, role__in=("owner", "admin", "sales")).order_by("name", "id")


# --- One quote ----------------------------------------------------------------------------------


def quote_get(*, quote_id: int) -> Quote:
    """The quote with its company, contact, owner and lead. Raises Quote.DoesNotExist."""
    return _rows(Quote.objects.all()).get(pk=quote_id)


@dataclass(frozen=True)
class QuoteSheet:
    """A quote as the builder shows it: its lines (each with `net`, its rounded amount), totals and margin."""

    quote: Quote
    lines: list[QuoteLine]
    totals: Totals
    margin: Margin


def quote_sheet(*, quote: Quote) -> QuoteSheet:
    """The lines in order with their amounts, the totals and the margin: one query."""
    lines = list(QuoteLine.objects.filter(quote=quote).select_related("product").order_by("position", "id"))
    totals = quote_totals(lines, quote.currency)
    for index, line in enumerate(lines):
        line.net = totals.nets[index]
    return QuoteSheet(quote=quote, lines=lines, totals=totals, margin=quote_margin(lines, quote.currency))


def quote_line_get(*, line_id: int) -> QuoteLine:
    """Raises QuoteLine.DoesNotExist."""
    return QuoteLine.objects.select_related("quote").get(pk=line_id)


def quote_revisions(*, quote: Quote) -> list[QuoteRevision]:
    return list(QuoteRevision.objects.filter(quote=quote).select_related("created_by").order_by("-number"))


def quote_acceptance_get(*, quote: Quote) -> QuoteAcceptance | None:
    """The customer's acceptance record (quotes.acceptance), shown to staff on the builder."""
    return QuoteAcceptance.objects.select_related("revision").filter(quote=quote).first()


def quote_revision_get(*, revision_id: int) -> QuoteRevision:
    """The revision with its quote and author. Raises QuoteRevision.DoesNotExist."""
    return QuoteRevision.objects.select_related("quote", "created_by").get(pk=revision_id)


# --- Catalog ------------------------------------------------------------------------------------


def _with_prices(queryset: QuerySet[Product]) -> QuerySet[Product]:
    return queryset.prefetch_related(
        Prefetch("prices", queryset=ProductPrice.objects.order_by("currency")),
        Prefetch("bundle_items", queryset=BundleItem.objects.select_related("component")),
    )


def product_search(*, text: str, currency: str, limit: int = SEARCH_LIMIT) -> list[Product]:
    """Active products whose name, SKU or category contains `text`, with their price in `currency` as `price`
    (None when they have none): two queries."""
    text = text.strip()
    queryset = Product.objects.active()
    if text:
        queryset = queryset.filter(Q(name__icontains=text) | Q(sku__icontains=text) | Q(category__icontains=text))
    prices = Prefetch("prices", queryset=ProductPrice.objects.filter(currency=currency), to_attr="in_currency")
    products = list(queryset.prefetch_related(prices).order_by("name", "id")[:limit])
    for product in products:
        product.price = product.in_currency[0].unit_price if product.in_currency else None
    return products


def product_for_quote(*, product_id: int) -> Product:
    """An active product with its prices and bundle parts (`parts_text`), for a new line. Raises DoesNotExist."""
    product = _with_prices(Product.objects.active()).get(pk=product_id)
    product.parts_text = ", ".join(
        f"{item.quantity.normalize():f} × {item.component.name}" for item in product.bundle_items.all()
    )
    return product


def products_often_with(*, product_ids: list[int], exclude_ids: list[int], limit: int = 5) -> list[Product]:
    """Products often sold with these (the catalog's relations), strongest first, leaving out those already in."""
    relations = (
        ProductRelation.objects.filter(product_id__in=product_ids, related__active=True)
        .exclude(related_id__in=exclude_ids)
        .select_related("related")
        .order_by("-confidence", "related__name")
    )
    seen: dict[int, Product] = {}
    for relation in relations[: limit * 4]:
        seen.setdefault(relation.related_id, relation.related)
    return list(seen.values())[:limit]


@dataclass(frozen=True)
class ProductFilters:
    q: str = ""
    category: str = ""
    active: str = ""  # "yes", "no" or "" for both


def product_list(*, filters: ProductFilters, cursor: str | None = None, page_size: int = 50) -> Page[Product]:
    """One page of the catalog by category and name, with prices (3 queries) and the count."""
    queryset = Product.objects.all()
    if filters.q.strip():
        text = filters.q.strip()
        queryset = queryset.filter(Q(name__icontains=text) | Q(sku__icontains=text))
    if filters.category:
        queryset = queryset.filter(category=filters.category)
    if filters.active in ("yes", "no"):
        queryset = queryset.filter(active=filters.active == "yes")
    page = paginate(
        _with_prices(queryset),
        order=KeysetOrder(keys=("category", "name", "id")),
        cursor=cursor,
        page_size=max(1, min(page_size, MAX_PAGE_SIZE)),
        salt=PRODUCT_CURSOR_SALT,
    )
    total, capped = count_up_to(queryset, COUNT_CAP)
    return dataclasses.replace(page, total=total, total_capped=capped)


def product_categories() -> list[str]:
    return list(Product.objects.exclude(category="").order_by("category").values_list("category", flat=True).distinct())


def product_get(*, product_id: int) -> Product:
    return _with_prices(Product.objects.all()).get(pk=product_id)


def product_export_rows() -> list[Product]:
    return list(_with_prices(Product.objects.order_by("sku")))


# --- What the copilot reads (quotes.copilot) -----------------------------------------------------------


@dataclass(frozen=True)
class AcceptedHistory:
    """The workspace's accepted quotes as the copilot learns from them, oldest acceptance first."""

    baskets: list[frozenset[int]]  # the product ids of each accepted quote's item lines
    discounts: list[Decimal]  # the discount of every item line of an accepted quote
    totals: list[Decimal]  # each accepted quote's total, in `currency` only


def accepted_history(*, currency: str, exclude_quote_id: int | None = None, limit: int = 5000) -> AcceptedHistory:
    """The newest `limit` accepted quotes (two queries): their baskets, line discounts and totals in `currency`."""
    quotes = Quote.objects.filter(status=Quote.Status.ACCEPTED).exclude(pk=exclude_quote_id)
    rows = list(quotes.order_by("-accepted_at", "-id").values_list("id", "currency", "total")[:limit])
    rows.reverse()
    lines = QuoteLine.objects.filter(quote_id__in=[row[0] for row in rows], kind=QuoteLine.Kind.ITEM)
    products: dict[int, set[int]] = {}
    discounts = []
    for quote_id, product_id, discount in lines.values_list("quote_id", "product_id", "discount"):
        discounts.append(discount)
        if product_id is not None:
            products.setdefault(quote_id, set()).add(product_id)
    return AcceptedHistory(
        baskets=[frozenset(products[quote_id]) for quote_id, _, _ in rows if quote_id in products],
        discounts=discounts,
        totals=[total for _, quote_currency, total in rows if quote_currency == currency],
    )


def copilot_products(*, currency: str, limit: int = 2000) -> list[Product]:
    """Active products with their unit price in `currency` as `price` (None without one): two queries."""
    prices = Prefetch("prices", queryset=ProductPrice.objects.filter(currency=currency), to_attr="in_currency")
    products = list(Product.objects.active().prefetch_related(prices).order_by("category", "name", "id")[:limit])
    for product in products:
        product.price = product.in_currency[0].unit_price if product.in_currency else None
    return products
