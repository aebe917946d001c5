"""Customer and contact lists: search, filters, sorting, keyset pages and their query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers import selectors
from customers.models import Customer
from customers.selectors import ContactFilters, CustomerFilters

from .factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def names(page) -> list[str]:
    return [customer.name for customer in page.items]


def walk(*, filters=None, sort=None, page_size=3, fetch=selectors.customer_list) -> list:
    """Every item, following next cursors to the end."""
    items, cursor = [], None
    while True:
        page = fetch(filters=filters, sort=sort, cursor=cursor, page_size=page_size)
        items.extend(page.items)
        if not page.next_cursor:
            return items
        cursor = page.next_cursor


# --- Search and filters -------------------------------------------------------------------------


def test_customer_list_searches_name_domain_and_contacts():
    acme = CustomerFactory(name="Acme Rockets", domain="acme.test")
    by_domain = CustomerFactory(name="Something Else", domain="rocketmail.test")
    by_contact = CustomerFactory(name="Globex")
    ContactFactory(customer=by_contact, name="Rocky Balboa", email="rb@globex.test")
    by_email = CustomerFactory(name="Initech")
    ContactFactory(customer=by_email, name="Peter", email="peter@rocketeers.test")
    CustomerFactory(name="Unrelated", domain="nothing.test")

    page = selectors.customer_list(filters=CustomerFilters(q="rock"))

    assert {c.pk for c in page.items} == {acme.pk, by_domain.pk, by_contact.pk, by_email.pk}
    assert page.total == 4


def test_customer_list_search_does_not_duplicate_customers_with_several_matching_contacts():
    customer = CustomerFactory(name="Hooli")
    ContactFactory.create_batch(3, customer=customer, name="Gavin Belson")

    page = selectors.customer_list(filters=CustomerFilters(q="gavin"))

    assert [c.pk for c in page.items] == [customer.pk]
    assert page.total == 1


def test_customer_search_finds_contacts_added_changed_and_removed_later():
    customer = CustomerFactory(name="Globex")
    person = ContactFactory(customer=customer, name="Rocky Balboa", email="rb@globex.test")

    def found(query: str) -> list[int]:
        return [c.pk for c in selectors.customer_list(filters=CustomerFilters(q=query)).items]

    assert found("balboa") == [customer.pk]
    person.name, person.email = "Adrian Pennino", "adrian@globex.test"
    person.save()
    assert found("balboa") == [] and found("pennino") == [customer.pk] and found("adrian@") == [customer.pk]
    person.delete()
    assert found("pennino") == []
    assert found("globex") == [customer.pk]


@pytest.mark.parametrize("query", ["ärzte", "ÄRZTE", "Ärzte Zentrum", "zentrum.test", "  ÄRZTE  "])
def test_customer_search_ignores_case_beyond_ascii(query):
    customer = CustomerFactory(name="Ärzte Zentrum", domain="zentrum.test")
    CustomerFactory(name="Arzte ohne Umlaut")

    assert [c.pk for c in selectors.customer_list(filters=CustomerFilters(q=query)).items] == [customer.pk]


def test_customer_search_takes_wildcards_literally():
    half = CustomerFactory(name="50% Off Ltd", domain="fifty.test")
    CustomerFactory(name="500 Corp", domain="five.test")
    snake = CustomerFactory(name="snake_case Inc", domain="snake.test")
    CustomerFactory(name="snakeXcase Inc", domain="other.test")

    assert names(selectors.customer_list(filters=CustomerFilters(q="50%"))) == [half.name]
    assert names(selectors.customer_list(filters=CustomerFilters(q="e_c"))) == [snake.name]


def test_customer_search_does_not_match_across_fields():
    CustomerFactory(name="Acme", domain="rocket.test")

    assert selectors.customer_list(filters=CustomerFilters(q="acme rocket")).total == 0


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (CustomerFilters(tier="enterprise"), {"Big"}),
        (CustomerFilters(industry="retail"), {"Shop"}),
        (CustomerFilters(tag="vip"), {"Big", "Shop"}),
        (CustomerFilters(unowned=True), {"Shop", "Tiny"}),
        (CustomerFilters(tier="starter", tag="vip"), {"Shop"}),
    ],
)
def test_customer_list_filters(filters, expected, make_user):
    CustomerFactory(name="Big", tier="enterprise", tags=["vip", "emea"], owner=make_user("sales"))
    CustomerFactory(name="Shop", tier="starter", tags=["vip"], industry="Retail")
    CustomerFactory(name="Tiny", tier="free", tags=[])

    assert set(names(selectors.customer_list(filters=filters))) == expected


def test_customer_list_filters_by_owner(make_user):
    dana = make_user("sales")
    mine = CustomerFactory(name="Mine", owner=dana)
    CustomerFactory(name="Theirs", owner=make_user("sales"))

    page = selectors.customer_list(filters=CustomerFilters(owner_id=dana.pk))

    assert [c.pk for c in page.items] == [mine.pk]


def test_customer_list_shows_contact_counts():
    customer = CustomerFactory()
    ContactFactory.create_batch(3, customer=customer)
    CustomerFactory()

    counts = {c.pk: c.contact_count for c in selectors.customer_list().items}

    assert counts[customer.pk] == 3
    assert sorted(counts.values()) == [0, 3]


def test_customer_list_count_stops_at_the_cap(monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for index in range(5):
        CustomerFactory(name=f"C{index}")

    page = selectors.customer_list(page_size=2)
    narrow = selectors.customer_list(filters=CustomerFilters(q="c1"))

    assert (page.total, page.total_capped, len(page.items)) == (3, True, 2)
    assert (narrow.total, narrow.total_capped) == (1, False)


def test_customer_list_count_is_exact_up_to_the_cap(monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    CustomerFactory.create_batch(3)

    page = selectors.customer_list()

    assert (page.total, page.total_capped) == (3, False)


# --- Sorting and keyset pages -------------------------------------------------------------------


def test_customer_list_sorts_names_case_insensitively():
    for name in ["zeta", "Alpha", "beta", "Gamma"]:
        CustomerFactory(name=name)

    assert names(selectors.customer_list(sort="name")) == ["Alpha", "beta", "Gamma", "zeta"]
    assert names(selectors.customer_list(sort="-name")) == ["zeta", "Gamma", "beta", "Alpha"]


def test_customer_list_sorts_tiers_by_rank_not_alphabet():
    for tier in ["enterprise", "free", "professional", "starter"]:
        CustomerFactory(name=tier.title(), tier=tier)

    assert names(selectors.customer_list(sort="tier")) == ["Free", "Starter", "Professional", "Enterprise"]
    assert names(selectors.customer_list(sort="-tier"))[0] == "Enterprise"


def test_unknown_sort_falls_back_to_name():
    CustomerFactory(name="B")
    CustomerFactory(name="A")

    assert names(selectors.customer_list(sort="; DROP TABLE")) == ["A", "B"]


@pytest.mark.parametrize("sort", ["name", "-name", "tier", "-tier", "created", "-created"])
def test_keyset_pages_cover_every_row_once_despite_ties(sort):
    now = timezone.now()
    for index in range(11):
        # Ties on every sort key: three names, two tiers, two timestamps.
        customer = CustomerFactory(name=["Same", "same", "Other"][index % 3], tier=["free", "enterprise"][index % 2])
        Customer.objects.filter(pk=customer.pk).update(created=now - timedelta(days=index % 2))

    walked = walk(sort=sort, page_size=3)
    everything = list(selectors.customer_list(sort=sort, page_size=100).items)

    assert [c.pk for c in walked] == [c.pk for c in everything]
    assert len({c.pk for c in walked}) == 11


def test_previous_cursor_returns_the_same_page():
    for index in range(10):
        CustomerFactory(name=f"Customer {index:02d}")
    first = selectors.customer_list(page_size=4)
    second = selectors.customer_list(cursor=first.next_cursor, page_size=4)
    third = selectors.customer_list(cursor=second.next_cursor, page_size=4)

    back_to_second = selectors.customer_list(cursor=third.prev_cursor, page_size=4)
    back_to_first = selectors.customer_list(cursor=back_to_second.prev_cursor, page_size=4)

    assert names(third) == ["Customer 08", "Customer 09"]
    assert third.next_cursor is None
    assert names(back_to_second) == names(second)
    assert names(back_to_first) == names(first)
    assert first.prev_cursor is None
    assert back_to_first.prev_cursor is None


def test_pages_stay_stable_when_rows_are_added_before_the_cursor():
    for index in range(6):
        CustomerFactory(name=f"M{index}")
    first = selectors.customer_list(page_size=3)
    CustomerFactory(name="A new one")  # sorts before everything already shown

    second = selectors.customer_list(cursor=first.next_cursor, page_size=3)

    assert names(second) == ["M3", "M4", "M5"]


def test_tampered_or_foreign_cursors_mean_the_first_page():
    for index in range(4):
        CustomerFactory(name=f"C{index}")
    by_name = selectors.customer_list(page_size=2)

    assert names(selectors.customer_list(cursor="garbage", page_size=2)) == ["C0", "C1"]
    assert names(selectors.customer_list(cursor=by_name.next_cursor + "x", page_size=2)) == ["C0", "C1"]
    # A cursor made for another sort order is not applied to this one.
    assert names(selectors.customer_list(cursor=by_name.next_cursor, sort="-name", page_size=2)) == ["C3", "C2"]


def test_cursor_past_deleted_rows_falls_back_to_the_first_page():
    customers = [CustomerFactory(name=f"C{index}") for index in range(4)]
    first = selectors.customer_list(page_size=2)
    Customer.objects.filter(pk__in=[c.pk for c in customers[2:]]).delete()

    page = selectors.customer_list(cursor=first.next_cursor, page_size=2)

    assert names(page) == ["C0", "C1"]


@pytest.mark.parametrize("page_size", [5, 50])
def test_customer_list_query_count_does_not_grow_with_page_size(page_size, make_user, django_assert_max_num_queries):
    owner = make_user("sales")
    for index in range(60):
        customer = CustomerFactory(name=f"C{index:02d}", owner=owner, tags=["vip"])
        ContactFactory(customer=customer)

    with django_assert_max_num_queries(2):  # the page, the count
        page = selectors.customer_list(filters=CustomerFilters(q="c", tag="vip"), page_size=page_size)
        rendered = [(c.name, c.owner.email, c.contact_count) for c in page.items]

    assert len(rendered) == page_size


@pytest.mark.parametrize(
    ("filters", "sort"),
    [
        (CustomerFilters(q="c"), "name"),
        (CustomerFilters(q="person"), "-tier"),
        (CustomerFilters(tier="starter", tag="vip"), "-created"),
    ],
)
def test_customer_list_costs_two_queries_on_any_page(filters, sort, make_user, django_assert_num_queries):
    owner = make_user("sales")
    for index in range(30):
        customer = CustomerFactory(name=f"C{index:02d}", owner=owner, tags=["vip"])
        ContactFactory(customer=customer, name=f"Person {index}")
    second = selectors.customer_list(filters=filters, sort=sort, page_size=10).next_cursor

    with django_assert_num_queries(2):  # the page, the count
        page = selectors.customer_list(filters=filters, sort=sort, cursor=second, page_size=10)
        rendered = [(c.name, c.owner.get_full_name(), c.contact_count, c.tier) for c in page.items]

    assert len(rendered) == 10 and page.prev_cursor


def explain(query) -> str:
    """The plan of a queryset or of captured SQL."""
    with connection.cursor() as cursor:
        # Tiny test tables make a scan plus sort look cheaper than an index; forbid both shortcuts.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        if isinstance(query, str):
            cursor.execute(f"EXPLAIN {query}")
            return "\n".join(row[0] for row in cursor.fetchall())
        return query.explain()


def test_customer_search_uses_the_trigram_index():
    CustomerFactory.create_batch(5)

    plan = explain(Customer.objects.matching("acme").values("pk"))

    assert "customer_search_trgm" in plan


def test_tier_sort_and_its_later_pages_use_the_tier_rank_index():
    for tier in ["free", "starter", "enterprise"] * 3:
        CustomerFactory(tier=tier)
    with CaptureQueriesContext(connection) as first:
        page = selectors.customer_list(sort="-tier", page_size=4)
    with CaptureQueriesContext(connection) as second:
        selectors.customer_list(sort="-tier", cursor=page.next_cursor, page_size=4)

    assert "customer_tierrank_lname_id" in explain(first.captured_queries[0]["sql"])
    # The cursor's position is one row comparison the index range starts from, not a filter over the tier.
    plan = explain(second.captured_queries[0]["sql"])
    assert "customer_tierrank_lname_id" in plan and "Index Cond: (ROW(" in plan


def test_churn_sort_and_its_later_pages_use_the_churn_rank_index():
    for index in range(9):
        CustomerFactory(churn_risk=index / 10 if index % 3 else None)
    with CaptureQueriesContext(connection) as first:
        page = selectors.customer_list(sort="churn", page_size=4)
    with CaptureQueriesContext(connection) as second:
        selectors.customer_list(sort="churn", cursor=page.next_cursor, page_size=4)

    assert "customer_crank_lname_id" in explain(first.captured_queries[0]["sql"])
    plan = explain(second.captured_queries[0]["sql"])
    assert "customer_crank_lname_id" in plan and "Index Cond: (ROW(" in plan


def test_customer_list_uses_the_lower_name_index():
    CustomerFactory.create_batch(5)
    queryset = selectors.customer_queryset().order_by("sort_name", "id")[:10]

    assert "customer_lname_id" in explain(queryset)


# --- Single customers, options, export ----------------------------------------------------------


def test_customer_get_prefetches_contacts_by_name(django_assert_num_queries):
    customer = CustomerFactory()
    for name in ["bob", "Alice", "Carol"]:
        ContactFactory(customer=customer, name=name)

    with django_assert_num_queries(2):
        found = selectors.customer_get(customer_id=customer.pk)
        contact_names = [contact.name for contact in found.contacts.all()]

    assert contact_names == ["Alice", "bob", "Carol"]
    assert found.contact_count == 3


def test_customer_get_raises_for_unknown_ids():
    with pytest.raises(Customer.DoesNotExist):
        selectors.customer_get(customer_id=999_999)


def test_filter_options_list_industries_once_and_tags_by_use(make_user):
    CustomerFactory(industry="Retail", tags=["vip", "emea"])
    CustomerFactory(industry="retail", tags=["vip"])
    CustomerFactory(industry="", tags=[])
    make_user("agent")

    options = selectors.customer_filter_options()

    assert options.industries == ["Retail"]
    assert options.tags == ["vip", "emea"]
    assert options.owners


def test_customer_export_rows_follow_filters_and_sort(make_user):
    owner = make_user("sales", email="dana@alpha.test")
    acme = CustomerFactory(name="Acme", domain="acme.test", tier="enterprise", tags=["vip", "emea"], owner=owner)
    ContactFactory(customer=acme)
    CustomerFactory(name="Beta", tier="enterprise")
    CustomerFactory(name="Free one", tier="free")

    rows = list(selectors.customer_export_rows(filters=CustomerFilters(tier="enterprise"), sort="-name"))

    assert rows[0] == selectors.CUSTOMER_EXPORT_HEADER
    assert [row[0] for row in rows[1:]] == ["Beta", "Acme"]
    assert rows[2][:7] == ("Acme", "acme.test", "Software", "enterprise", "dana@alpha.test", "vip, emea", 1)


# --- Contacts -----------------------------------------------------------------------------------


def test_contact_list_searches_name_email_and_company():
    acme = CustomerFactory(name="Acme")
    jane = ContactFactory(customer=acme, name="Jane Doe", email="jane@acme.test")
    ContactFactory(customer=CustomerFactory(name="Other"), name="John Smith", email="john@other.test")

    assert [c.pk for c in selectors.contact_list(filters=ContactFilters(q="jane")).items] == [jane.pk]
    assert [c.pk for c in selectors.contact_list(filters=ContactFilters(q="acme")).items] == [jane.pk]
    assert selectors.contact_list(filters=ContactFilters(q="smith")).total == 1


def test_contact_list_pages_through_everyone(django_assert_max_num_queries):
    customer = CustomerFactory()
    for index in range(7):
        ContactFactory(customer=customer, name=f"Person {index % 3}")

    walked = walk(fetch=selectors.contact_list, page_size=2)

    assert len({contact.pk for contact in walked}) == 7
    with django_assert_max_num_queries(2):
        page = selectors.contact_list(page_size=5)
        [contact.customer.name for contact in page.items]


def test_filter_menus_are_cached_and_rebuilt_after_a_customer_change(make_user, django_capture_on_commit_callbacks):
    from customers import services

    agent = make_user("agent")
    selectors.customer_facets_forget()
    CustomerFactory(industry="Aerospace", tags=["orbit"])
    assert "orbit" in selectors.customer_filter_options().tags
    CustomerFactory(industry="Bakery", tags=["bread"])  # written behind the services' back: cache still old
    assert "bread" not in selectors.customer_filter_options().tags
    with django_capture_on_commit_callbacks(execute=True):
        services.customer_create(actor=agent, name="Crumbs Ltd", industry="Bakery", tags=["bread"])
    options = selectors.customer_filter_options()
    assert "bread" in options.tags and "Bakery" in options.industries
