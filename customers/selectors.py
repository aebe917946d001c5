"""Every non-trivial read of customers and contacts: lists with search, filters, sorting and keyset pages.

Each list costs a fixed number of queries whatever the page size: owners are joined, contact counts come
from a correlated subquery, and a page is one `LIMIT n + 1` query plus one COUNT.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Lower

from core.keyset import KeysetOrder, Page, paginate

from .models import Contact, Customer

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
CUSTOMER_CURSOR_SALT = "customers.customer_list"
CONTACT_CURSOR_SALT = "customers.contact_list"

TIER_RANK = {tier: rank for rank, tier in enumerate(Customer.Tier.values)}

# Sort choices users see → the keys a page is ordered and sought by (the last one unique).
CUSTOMER_SORT_KEYS: dict[str, tuple[str, ...]] = {
    "name": ("sort_name", "id"),
    "created": ("created", "id"),
    "tier": ("tier_rank", "sort_name", "id"),
}
CONTACT_SORT_KEYS: dict[str, tuple[str, ...]] = {
    "name": ("sort_name", "id"),
    "created": ("created", "id"),
}


@dataclass(frozen=True)
class CustomerFilters:
    q: str = ""
    tier: str = ""
    industry: str = ""
    owner_id: int | None = None
    unowned: bool = False
    tag: str = ""

    @property
    def active(self) -> bool:
        return any(dataclasses.astuple(self))


@dataclass(frozen=True)
class ContactFilters:
    q: str = ""
    customer_id: int | None = None


@dataclass(frozen=True)
class FilterOptions:
    industries: list[str]
    tags: list[str]
    owners: list[Any]


def parse_sort(sort: str | None, choices: dict[str, tuple[str, ...]]) -> tuple[str, bool]:
    """ "-created" → ("created", True). Anything unknown falls back to the first choice, ascending."""
    sort = (sort or "").strip()
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field not in choices:
        return next(iter(choices)), False
    return field, descending


# --- Customers ----------------------------------------------------------------------------------


def _contact_count() -> Coalesce:
    counts = (
        Contact.objects.filter(customer=OuterRef("pk"))
        .order_by()
        .values("customer")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def _tier_rank() -> Case:
    return Case(*(When(tier=tier, then=Value(rank)) for tier, rank in TIER_RANK.items()), output_field=IntegerField())


def customer_queryset(*, filters: CustomerFilters | None = None) -> QuerySet[Customer]:
    """Filtered customers with their owner and `contact_count`, `sort_name` and `tier_rank` annotations."""
    queryset = Customer.objects.select_related("owner").annotate(
        contact_count=_contact_count(), sort_name=Lower("name"), tier_rank=_tier_rank()
    )
    return _filter_customers(queryset, filters or CustomerFilters())


def _filter_customers(queryset: QuerySet[Customer], filters: CustomerFilters) -> QuerySet[Customer]:
    if filters.q.strip():
        queryset = queryset.filter(_customer_search(filters.q.strip()))
    if filters.tier:
        queryset = queryset.filter(tier=filters.tier)
    if filters.industry:
        queryset = queryset.filter(industry__iexact=filters.industry)
    if filters.unowned:
        queryset = queryset.filter(owner__isnull=True)
    elif filters.owner_id is not None:
        queryset = queryset.filter(owner_id=filters.owner_id)
    if filters.tag:
        queryset = queryset.filter(tags__contains=[filters.tag])
    return queryset


def _customer_search(query: str) -> Q:
    """Name or domain (trigram indexes serve the ILIKE), or any contact's name or e-mail address."""
    # One id list from two index-served scans: an OR across the tables made PostgreSQL guess half the rows
    # match and walk the whole name index instead (40 ms at 10k customers, whatever the result).
    by_company = Customer.objects.filter(Q(name__ilike=query) | Q(domain__ilike=query)).values("pk")
    by_contact = Contact.objects.filter(Q(name__ilike=query) | Q(email__ilike=query)).values("customer_id")
    return Q(pk__in=by_company.union(by_contact))


def customer_list(
    *,
    filters: CustomerFilters | None = None,
    sort: str | None = None,
    cursor: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Page[Customer]:
    """One page of customers (1 query) and how many match in all (1 query)."""
    queryset = customer_queryset(filters=filters)
    page = paginate(
        queryset,
        order=customer_order(sort),
        cursor=cursor,
        page_size=_clamp(page_size),
        salt=CUSTOMER_CURSOR_SALT,
    )
    return dataclasses.replace(page, total=_count(queryset))


def customer_order(sort: str | None) -> KeysetOrder:
    field, descending = parse_sort(sort, CUSTOMER_SORT_KEYS)
    return KeysetOrder(keys=CUSTOMER_SORT_KEYS[field], descending=descending)


def customer_get(*, customer_id: int) -> Customer:
    """The customer with owner, `contact_count` and its contacts by name. Raises Customer.DoesNotExist."""
    contacts = Contact.objects.order_by(Lower("name"), "id")
    return (
        Customer.objects.select_related("owner")
        .annotate(contact_count=_contact_count())
        .prefetch_related(Prefetch("contacts", queryset=contacts))
        .get(pk=customer_id)
    )


def customer_row(*, customer_id: int) -> Customer:
    """A customer as one list row shows it (owner, contact count), for live updates."""
    return customer_queryset().get(pk=customer_id)


def customer_duplicates(*, name: str, exclude_id: int | None = None) -> list[Customer]:
    """Customers already called `name` (any case), to warn before adding a second one."""
    queryset = Customer.objects.filter(name__iexact=name.strip()).order_by("id")
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return list(queryset[:3])


FACETS_CACHE_KEY = "customers:facets"
FACETS_CACHE_SECONDS = 300


def customer_filter_options() -> FilterOptions:
    """Choices for the list's filter menus: industries and tags in use, active teammates.

    Industries and tags scan every customer (30 ms at 10k), so they are cached per workspace (the cache key
    function adds the schema) and dropped by every customer write; teammates are one cheap query.
    """
    facets = cache.get(FACETS_CACHE_KEY)
    if facets is None:
        facets = {"industries": customer_industries(), "tags": customer_popular_tags()}
        cache.set(FACETS_CACHE_KEY, facets, FACETS_CACHE_SECONDS)
    return FilterOptions(industries=facets["industries"], tags=facets["tags"], owners=list(customer_owner_choices()))


def customer_facets_forget() -> None:
    cache.delete(FACETS_CACHE_KEY)


def customer_popular_tags(limit: int = 50) -> list[str]:
    """The most used tags first. Raw SQL: the ORM cannot GROUP BY the elements of an unnested array."""
    sql = (
        f"SELECT tag FROM {Customer._meta.db_table}, unnest(tags) AS tag "
        "GROUP BY tag ORDER BY count(*) DESC, tag LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]


def customer_owner_choices() -> QuerySet:
    """Who can own a customer: active teammates of this workspace."""
    return get_user_model().objects.filter(is_active=True).order_by("name", "email")


def customer_industries() -> list[str]:
    industries = (
        Customer.objects.exclude(industry="").order_by(Lower("industry")).values_list("industry", flat=True).distinct()
    )
    return _unique_casefold(industries[:200])


def customer_exists() -> bool:
    return Customer.objects.exists()


CUSTOMER_EXPORT_HEADER = ("name", "domain", "industry", "tier", "owner_email", "tags", "contacts", "created")


def customer_export_rows(*, filters: CustomerFilters | None = None, sort: str | None = None) -> Iterator[tuple]:
    """Every matching customer as a CSV row (header first), streamed from the database in chunks."""
    yield CUSTOMER_EXPORT_HEADER
    queryset = customer_queryset(filters=filters).order_by(*customer_order(sort).order_by())
    columns = ("name", "domain", "industry", "tier", "owner__email", "tags", "contact_count", "created")
    rows = queryset.values_list(*columns)
    for name, domain, industry, tier, owner_email, tags, contacts, created in rows.iterator(chunk_size=2000):
        yield name, domain, industry, tier, owner_email or "", ", ".join(tags), contacts, created.isoformat()


# --- Contacts -----------------------------------------------------------------------------------


def contact_queryset(*, filters: ContactFilters | None = None) -> QuerySet[Contact]:
    filters = filters or ContactFilters()
    queryset = Contact.objects.select_related("customer").annotate(sort_name=Lower("name"))
    query = filters.q.strip()
    if query:
        queryset = queryset.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(customer__name__icontains=query)
        )
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    return queryset


def contact_list(
    *,
    filters: ContactFilters | None = None,
    sort: str | None = None,
    cursor: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Page[Contact]:
    """One page of contacts with their company (1 query) and how many match in all (1 query)."""
    queryset = contact_queryset(filters=filters)
    page = paginate(
        queryset, order=contact_order(sort), cursor=cursor, page_size=_clamp(page_size), salt=CONTACT_CURSOR_SALT
    )
    return dataclasses.replace(page, total=_count(queryset))


def contact_order(sort: str | None) -> KeysetOrder:
    field, descending = parse_sort(sort, CONTACT_SORT_KEYS)
    return KeysetOrder(keys=CONTACT_SORT_KEYS[field], descending=descending)


def contact_get(*, contact_id: int) -> Contact:
    """Raises Contact.DoesNotExist."""
    return Contact.objects.select_related("customer").get(pk=contact_id)


def contact_email_taken(*, customer: Customer, email: str, exclude_id: int | None = None) -> bool:
    queryset = Contact.objects.filter(customer=customer, email__iexact=email)
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return queryset.exists()


CONTACT_EXPORT_HEADER = ("customer", "customer_domain", "name", "email", "phone", "title", "created")


def contact_export_rows(*, filters: ContactFilters | None = None, sort: str | None = None) -> Iterator[tuple]:
    yield CONTACT_EXPORT_HEADER
    queryset = contact_queryset(filters=filters).order_by(*contact_order(sort).order_by())
    rows = queryset.values_list("customer__name", "customer__domain", "name", "email", "phone", "title", "created")
    for *values, created in rows.iterator(chunk_size=2000):
        yield *values, created.isoformat()


# --- Helpers ------------------------------------------------------------------------------------


def _clamp(page_size: int) -> int:
    return max(1, min(int(page_size), MAX_PAGE_SIZE))


def _count(queryset: QuerySet) -> int:
    # Django drops the display-only annotations (contact count, sort keys) from the COUNT by itself.
    return queryset.count()


def _unique_casefold(values) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.casefold(), value)
    return list(seen.values())
