"""Every non-trivial read of customers and contacts: lists with search, filters, sorting and keyset pages.

Each list costs a fixed number of queries whatever the page size: owners are joined, and a page is one
`LIMIT n + 1` query plus one COUNT that stops at COUNT_CAP. A customer's contact count and the text search
looks in (Customer.contact_count, Customer.search_text) are columns the database keeps up to date, so a page
reads one table, and a search matching half the customers costs about what the plain list costs: PostgreSQL
walks the sort's index and stops once the page is full.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Expression, ExpressionWrapper, F, Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from core.deletion import deletion_blocker
from core.keyset import KeysetOrder, Page, count_up_to, paginate

from . import timeline
from .models import Contact, Customer, HealthSnapshot, Note, Task, churn_rank, health_rank, tier_rank

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
OWNER_FIELDS_UNSHOWN = ("password", "last_login", "date_joined")
# Lists count their matches up to here and then say "10,000+": an exact count of a huge list costs a scan of it.
COUNT_CAP = 10_000
CUSTOMER_CURSOR_SALT = "customers.customer_list"
CONTACT_CURSOR_SALT = "customers.contact_list"

# Sort choices users see → the keys a page is ordered and sought by (the last one unique).
CUSTOMER_SORT_KEYS: dict[str, tuple[str, ...]] = {
    "name": ("sort_name", "id"),
    "created": ("created", "id"),
    "tier": ("tier_rank", "sort_name", "id"),
    # Worst first (never scored before everything), as an account manager reads it.
    "health": ("health_rank", "sort_name", "id"),
    # Riskiest first (no risk, e.g. churned already, after every risk): the accounts to call this week.
    "churn": ("churn_rank", "sort_name", "id"),
}
# The sort keys that are expressions rather than columns.
CUSTOMER_SORT_ANNOTATIONS: dict[str, Callable[[], Expression]] = {
    "sort_name": lambda: Lower("name"),
    "tier_rank": tier_rank,
    "health_rank": health_rank,
    "churn_rank": churn_rank,
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
    health: str = ""  # a Customer.HealthBand value
    churned: str = ""  # "yes": only churned companies, "no": only the others

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


def customer_queryset(*, filters: CustomerFilters | None = None) -> QuerySet[Customer]:
    """Filtered customers with their owner, and `sort_name` and `tier_rank` annotations."""
    return _displayed(_matching_customers(filters or CustomerFilters()), sort_keys=CUSTOMER_SORT_ANNOTATIONS.keys())


def _displayed(queryset: QuerySet[Customer], *, sort_keys: Iterable[str]) -> QuerySet[Customer]:
    """`queryset` as list rows show it, with the sort keys named (those that are annotations, not columns)."""
    sort_annotations = {key: CUSTOMER_SORT_ANNOTATIONS[key]() for key in sort_keys if key in CUSTOMER_SORT_ANNOTATIONS}
    return (
        queryset.select_related("owner")
        # Rows show the owner's name: the password hash and two timestamps per owner are left in the database,
        # and so is the search text (a few hundred bytes a customer).
        .defer("search_text", *(f"owner__{field}" for field in OWNER_FIELDS_UNSHOWN))
        .annotate(**sort_annotations)
    )


def _matching_customers(filters: CustomerFilters) -> QuerySet[Customer]:
    queryset = Customer.objects.matching(filters.q)
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
    if filters.health:
        queryset = queryset.filter(health_band=filters.health)
    if filters.churned:
        queryset = queryset.filter(churned_at__isnull=filters.churned != "yes")
    return queryset


def customer_list(
    *,
    filters: CustomerFilters | None = None,
    sort: str | None = None,
    cursor: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Page[Customer]:
    """One page of customers (1 query) and how many match in all (1 query)."""
    matches = _matching_customers(filters or CustomerFilters())
    order = customer_order(sort)
    page = paginate(
        # Only the sort keys this order needs: compiling the tier rank's CASE costs more than running it.
        _displayed(matches, sort_keys=order.keys),
        order=order,
        cursor=cursor,
        page_size=_clamp(page_size),
        salt=CUSTOMER_CURSOR_SALT,
    )
    # Counted from the bare filters: building the display's join and annotations costs more than the count.
    return _with_total(page, matches)


def customer_order(sort: str | None) -> KeysetOrder:
    field, descending = parse_sort(sort, CUSTOMER_SORT_KEYS)
    return KeysetOrder(keys=CUSTOMER_SORT_KEYS[field], descending=descending)


def customer_get(*, customer_id: int) -> Customer:
    """The customer with owner and its contacts by name. Raises Customer.DoesNotExist."""
    contacts = Contact.objects.order_by(Lower("name"), "id")
    return (
        Customer.objects.select_related("owner")
        .prefetch_related(Prefetch("contacts", queryset=contacts))
        .get(pk=customer_id)
    )


HEALTH_HISTORY_DAYS = 90


def customer_health_history(*, customer_id: int, days: int = HEALTH_HISTORY_DAYS) -> list[HealthSnapshot]:
    """The company's daily health snapshots of the last `days` days, oldest first (one query)."""
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.localdate() - timedelta(days=days)
    return list(HealthSnapshot.objects.filter(customer_id=customer_id, day__gt=since).order_by("day"))


def customer_brief_get(*, customer_id: int) -> Customer:
    """The customer's id and name alone (a fragment that only names it). Raises Customer.DoesNotExist."""
    return Customer.objects.only("id", "name").get(pk=customer_id)


def customer_row(*, customer_id: int) -> Customer:
    """A customer as one list row shows it (owner, contact count), for live updates."""
    return customer_queryset().get(pk=customer_id)


def delete_blocker(instance: Customer | Contact) -> str | None:
    """Why `instance` cannot be deleted now ("This customer still has 3 tickets. …"), or None. For confirm dialogs:
    the delete services refuse with the same sentence (core.deletion.StillInUse)."""
    return deletion_blocker(instance)


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
        queryset = queryset.filter(Q(name__ilike=query) | Q(email__ilike=query) | Q(customer__name__ilike=query))
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    return queryset


def contact_search(*, text: str, limit: int = 8) -> list[Contact]:
    """Contacts whose name or email address contains `text`, for requester boxes; nothing under two characters."""
    text = text.strip()
    if len(text) < 2:
        return []
    matches = Q(email__ilike=text) | Q(name__ilike=text)
    return list(Contact.objects.filter(matches).select_related("customer").order_by("name", "id")[:limit])


def contact_requester_rows() -> list[tuple]:
    """(id, customer id, customer tier, name, created) of every contact, oldest first."""
    rows = Contact.objects.order_by("created", "id").values_list(
        "id", "customer_id", "customer__tier", "name", "created"
    )
    return list(rows)


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
    # Exact: the contact list's template has no way to say "10,000+" yet.
    return dataclasses.replace(page, total=queryset.count())


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


def _with_total(page: Page, queryset: QuerySet) -> Page:
    total, capped = count_up_to(queryset, COUNT_CAP)
    return dataclasses.replace(page, total=total, total_capped=capped)


def _unique_casefold(values) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.casefold(), value)
    return list(seen.values())


# --- Notes and tasks ----------------------------------------------------------------------------

PANEL_NOTES = 20
PANEL_DONE_TASKS = 10
PANEL_OPEN_TASKS = 50


def _about(customer_id: int | None, contact_id: int | None) -> dict[str, int]:
    return {"contact_id": contact_id} if contact_id is not None else {"customer_id": customer_id}


def note_list(*, customer_id: int | None = None, contact_id: int | None = None, limit: int = PANEL_NOTES) -> list[Note]:
    """Pinned notes first, then the newest, with author and contact: a company's include its people's."""
    notes = Note.objects.filter(**_about(customer_id, contact_id)).select_related("author", "contact")
    return list(notes.order_by("-pinned", "-created", "-id")[:limit])


def task_list(*, customer_id: int | None = None, contact_id: int | None = None) -> list[Task]:
    """Open tasks by due date (undated last), then the latest done ones."""
    tasks = Task.objects.filter(**_about(customer_id, contact_id)).select_related("owner", "contact")
    open_tasks = tasks.filter(done=False).order_by(F("due_at").asc(nulls_last=True), "id")[:PANEL_OPEN_TASKS]
    done = tasks.filter(done=True).order_by("-done_at", "-id")[:PANEL_DONE_TASKS]
    return [*open_tasks, *done]


def note_get(*, note_id: int) -> Note:
    """Raises Note.DoesNotExist."""
    return Note.objects.select_related("author", "contact", "customer").get(pk=note_id)


def task_get(*, task_id: int) -> Task:
    """Raises Task.DoesNotExist."""
    return Task.objects.select_related("owner", "contact", "customer").get(pk=task_id)


def contact_detail_get(*, contact_id: int) -> Contact:
    """A contact with its company (and the company's owner), for the contact page. Raises Contact.DoesNotExist."""
    return Contact.objects.select_related("customer", "customer__owner").get(pk=contact_id)


# --- Timeline (merged from every registered provider: customers.timeline) ------------------------

customer_timeline = timeline.customer_timeline
contact_timeline = timeline.contact_timeline


@dataclass(frozen=True)
class LookupOption:
    """One row offered by a search-as-you-type box: the id a form posts, the name, a hint to tell namesakes apart."""

    id: int
    label: str
    hint: str = ""


LOOKUP_LIMIT = 8


def customer_lookup(*, text: str, limit: int = LOOKUP_LIMIT) -> list[LookupOption]:
    """Companies whose name, domain or contacts match `text`, names starting with it first; the first few
    companies by name when nothing is typed yet."""
    queryset = Customer.objects.matching(text).only("id", "name", "domain")
    if text:
        queryset = queryset.annotate(starts=ExpressionWrapper(Q(name__istartswith=text), output_field=BooleanField()))
        queryset = queryset.order_by("-starts", Lower("name"), "id")
    else:
        queryset = queryset.order_by(Lower("name"), "id")
    return [LookupOption(row.pk, row.name, row.domain) for row in queryset[:limit]]


def contact_lookup(*, text: str, customer_id: int | None = None, limit: int = LOOKUP_LIMIT) -> list[LookupOption]:
    """Contacts whose name or email contains `text`, only the chosen company's when one is given."""
    queryset = Contact.objects.select_related("customer").only("id", "name", "email", "customer__name")
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    if text:
        queryset = queryset.filter(Q(name__ilike=text) | Q(email__ilike=text))
    rows = queryset.order_by(Lower("name"), "id")[:limit]
    return [LookupOption(row.pk, row.name or row.email, _contact_hint(row, customer_id)) for row in rows]


def _contact_hint(contact: Contact, customer_id: int | None) -> str:
    company = "" if customer_id is not None else f" · {contact.customer.name}"
    return f"{contact.email}{company}"
