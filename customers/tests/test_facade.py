"""What other apps ask of customers goes through customers.services: validation, cache invalidation, live rows."""

from __future__ import annotations

import pytest

from customers import facade, selectors
from customers.models import Contact, Customer

from .factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_new_address_at_a_new_domain_makes_its_company_and_contact_live(
    make_user, listen, django_capture_on_commit_callbacks
):
    agent = make_user("agent", name="Dana Scully")
    with django_capture_on_commit_callbacks(execute=True):
        contact = facade.contact_for_email(email=" Jane@Globex.test ", name="Jane Doe", actor=agent)

    assert (contact.email, contact.name, contact.customer.name, contact.customer.domain) == (
        "jane@globex.test",
        "Jane Doe",
        "globex.test",
        "globex.test",
    )
    assert contact.customer.tags == ["from-helpdesk"]
    # Teammates' customer lists get the new row, then its contact count, as for a customer added by hand.
    pushed = "".join(listen()["html"] for _ in range(4))  # a row and a toast for the company, then for the contact
    assert "Dana Scully added globex.test" in pushed and f'id="customer-row-{contact.customer.pk}"' in pushed
    assert "Dana Scully added Jane Doe to globex.test" in pushed


def test_a_requester_s_own_first_email_updates_the_lists_without_a_toast_on_every_page(
    listen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        contact = facade.contact_for_email(email="jane@globex.test", name="Jane Doe")  # no actor: the requester

    first, second = listen()["html"], listen()["html"]  # the company's row, then its contact count: no toasts between
    assert first.startswith('<tbody hx-swap-oob="afterbegin:#customer-rows">')
    assert f'id="customer-row-{contact.customer.pk}"' in first and f'id="customer-row-{contact.customer.pk}"' in second
    assert 'id="toasts"' not in first + second


def test_a_new_customer_from_an_email_drops_the_cached_filter_menus(django_capture_on_commit_callbacks):
    CustomerFactory(tags=["retail"])
    assert "from-helpdesk" not in selectors.customer_filter_options().tags  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        facade.contact_for_email(email="ana@initech.test")

    assert "from-helpdesk" in selectors.customer_filter_options().tags


def test_a_known_address_is_found_in_any_case_and_nothing_is_written():
    known = ContactFactory(email="jane@globex.test")
    assert facade.contact_for_email(email="JANE@globex.test") == known
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("email", ["jürgen@kunde.test", "用户@例子.test", "josé.núñez@empresa.test"])
def test_an_address_with_a_non_ascii_local_part_makes_a_contact(email):
    contact = facade.contact_for_email(email=email)
    assert Contact.objects.get().email == contact.email == email


def test_a_new_address_joins_the_customer_with_its_web_domain():
    globex = CustomerFactory(domain="globex.test")
    assert facade.contact_for_email(email="bob@GLOBEX.test").customer == globex


@pytest.mark.parametrize("email", ["pat@gmail.com", "root@localhost"])
def test_personal_and_domainless_addresses_share_the_individuals_customer(email):
    contact = facade.contact_for_email(email=email)
    again = facade.contact_for_email(email=f"other.{email}")
    assert contact.customer == again.customer
    assert (contact.customer.name, contact.customer.domain) == (facade.INDIVIDUALS, "")
    assert Customer.objects.filter(name=facade.INDIVIDUALS).count() == 1


def test_a_name_longer_than_the_field_is_cut_rather_than_refused():
    contact = facade.contact_for_email(email="long@globex.test", name="x" * 500)
    assert len(contact.name) == Contact._meta.get_field("name").max_length


def test_contact_search_finds_by_name_or_address_from_two_characters():
    jane = ContactFactory(name="Jane Doe", email="jane@globex.test")
    ContactFactory(name="Bob", email="bob@initech.test")
    assert facade.contact_search(text="glob") == [jane]
    assert facade.contact_search(text="j") == []


# --- sms ---


def test_a_phone_number_finds_the_contact_whatever_its_spelling():
    known = ContactFactory(phone="+1 (415) 555-0123")
    assert facade.contact_for_phone(phone="+14155550123") == known
    assert Contact.objects.count() == 1


def test_an_unknown_phone_number_becomes_an_individual_contact():
    contact = facade.contact_for_phone(phone="+447700900123")
    assert (contact.phone, contact.name, contact.email) == ("+447700900123", "+447700900123", "")
    assert contact.customer.name == facade.INDIVIDUALS
