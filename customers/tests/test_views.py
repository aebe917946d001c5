"""Customer pages and HTMX fragments: rendering, modal forms, import, export and who may do what."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Contact, Customer

from .factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str = "modal-body") -> dict[str, str]:
    return {**HTMX, "HTTP_HX_TARGET": target}


def url(name: str, *args) -> str:
    return reverse(f"customers:{name}", args=args)


# --- List page ----------------------------------------------------------------------------------


def test_list_page_shows_customers_and_the_new_button(client, login):
    login("agent")
    CustomerFactory(name="Acme", tags=["vip"])

    response = client.get(url("customer_list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="customer-row"' in html and "Acme" in html
    assert 'data-testid="customer-new"' in html and 'data-sb-shortcut="n"' in html
    assert 'id="customer-rows"' in html
    assert 'hx-trigger="input changed delay:250ms, search"' in html


def test_list_fragment_for_search_is_only_the_table(client, login):
    login("viewer")
    CustomerFactory(name="Acme")
    CustomerFactory(name="Globex")

    response = client.get(url("customer_list"), {"q": "glob"}, **htmx("customer-table"))

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="customer-table"')
    assert "Globex" in html and "Acme" not in html
    assert "<html" not in html
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_history_restore_gets_the_whole_page(client, login):
    login("viewer")

    response = client.get(
        url("customer_list"), {"q": "x"}, **htmx("customer-table"), HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )

    assert "<html" in response.content.decode()


def test_list_empty_state_invites_to_add_the_first_customer(client, login):
    login("agent")

    html = client.get(url("customer_list")).content.decode()

    assert "No customers yet" in html and "Add your first customer" in html and "Import a CSV" in html


def test_list_empty_search_offers_to_clear_it(client, login):
    login("viewer")
    CustomerFactory(name="Acme")

    html = client.get(url("customer_list"), {"q": "zzz"}).content.decode()

    assert "No customers match “zzz”" in html
    assert "Add your first customer" not in html


def test_viewer_sees_no_write_buttons(client, login):
    login("viewer")
    CustomerFactory()

    html = client.get(url("customer_list")).content.decode()

    assert 'data-testid="customer-new"' not in html and "Import CSV" not in html


def test_list_paginates_with_next_and_previous_links(client, login):
    login("viewer")
    for index in range(55):
        CustomerFactory(name=f"Customer {index:02d}")

    first = client.get(url("customer_list"))
    next_link = first.context["page"].next_cursor
    second = client.get(url("customer_list"), {"cursor": next_link}, **htmx("customer-table"))

    assert len(first.context["page"].items) == 50
    assert 'rel="next"' in first.content.decode()
    assert [c.name for c in second.context["page"].items] == [f"Customer {index}" for index in range(50, 55)]
    assert 'rel="prev"' in second.content.decode()


def test_list_sort_headers_link_to_the_reverse_order(client, login):
    login("viewer")

    html = client.get(url("customer_list"), {"sort": "name"}).content.decode()

    assert "sort=-name" in html
    assert 'aria-sort="ascending"' in html


def test_list_query_count_is_constant(client, login, django_assert_max_num_queries):
    login("viewer")
    for index in range(30):
        ContactFactory(customer=CustomerFactory(name=f"C{index}", tags=["vip"]))
    client.get(url("customer_list"))  # warms the host → workspace cache, which a cold start adds two queries for

    # session + user, page + count, industries + tags + owners
    with django_assert_max_num_queries(8):
        response = client.get(url("customer_list"))

    assert len(response.context["page"].items) == 30


# --- Detail page --------------------------------------------------------------------------------


def test_detail_page_shows_company_and_contacts(client, login, make_user):
    login("viewer")
    owner = make_user("sales", name="Dana Scully")
    customer = CustomerFactory(name="Acme", domain="acme.test", industry="Retail", tags=["vip"], owner=owner)
    ContactFactory(customer=customer, name="Jane Doe", email="jane@acme.test", title="CTO")

    html = client.get(url("customer_detail", customer.pk)).content.decode()

    for text in ["Acme", "acme.test", "Retail", "vip", "Dana Scully", "Jane Doe", "jane@acme.test", "CTO", "Added"]:
        assert text in html
    assert 'id="customer-info"' in html and 'id="customer-contacts"' in html


def test_detail_of_unknown_customer_is_404(client, login):
    login("admin")

    assert client.get(url("customer_detail", 999_999)).status_code == 404
    assert client.get(url("customer_update", 999_999)).status_code == 404
    assert client.post(url("customer_delete", 999_999)).status_code == 404
    assert client.get(url("contact_update", 999_999)).status_code == 404


# --- Create in the modal ------------------------------------------------------------------------


def test_create_form_is_a_modal_fragment(client, login):
    login("agent")

    response = client.get(url("customer_create"), **htmx())

    html = response.content.decode()
    assert "<html" not in html
    assert 'class="modal-header"' in html
    for name in ["name", "domain", "industry", "tier", "tags"]:
        assert f'name="{name}"' in html
    assert 'data-testid="customer-save"' in html


def test_create_form_works_as_a_page_without_javascript(client, login):
    login("agent")

    assert "<html" in client.get(url("customer_create")).content.decode()
    response = client.post(url("customer_create"), {"name": "Acme", "tier": "starter"})

    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == url("customer_detail", customer.pk)


def test_valid_create_closes_the_modal_and_inserts_the_row(client, login):
    login("agent")

    response = client.post(
        url("customer_create"),
        {"name": "Acme", "domain": "https://acme.com", "industry": "Retail", "tier": "enterprise", "tags": "vip, emea"},
        **htmx(),
    )

    customer = Customer.objects.get()
    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Trigger"] == "modal:close"
    assert response["HX-Reswap"] == "none"
    assert '<tbody hx-swap-oob="afterbegin:#customer-rows">' in html
    assert f'id="customer-row-{customer.pk}"' in html
    assert html.startswith("<tbody")  # table parts before the toast: see customers/live.py
    assert "Added Acme." in html  # the toast, out of band
    assert (customer.domain, customer.tags, customer.tier) == ("acme.com", ["vip", "emea"], "enterprise")


def test_invalid_create_re_renders_the_form_with_errors(client, login):
    login("agent")

    response = client.post(url("customer_create"), {"name": "", "domain": "not a domain", "tier": "starter"}, **htmx())

    html = response.content.decode()
    assert response.status_code == 200  # htmx 2 swaps 2xx only
    assert "HX-Trigger" not in response
    assert "Enter the company" in html or "This field is required." in html
    assert "is not a web domain" in html
    assert "is-invalid" in html
    assert not Customer.objects.exists()


def test_duplicate_name_warns_first_then_saves_on_confirmation(client, login):
    login("agent")
    CustomerFactory(name="Acme")

    warned = client.post(url("customer_create"), {"name": "acme", "tier": "starter"}, **htmx())
    assert "already exists" in warned.content.decode()
    assert 'name="allow_duplicate" value="1"' in warned.content.decode()
    assert Customer.objects.count() == 1

    saved = client.post(url("customer_create"), {"name": "acme", "tier": "starter", "allow_duplicate": "1"}, **htmx())
    assert saved["HX-Trigger"] == "modal:close"
    assert Customer.objects.count() == 2


# --- Edit and delete ----------------------------------------------------------------------------


def test_edit_form_is_prefilled(client, login):
    login("agent")
    customer = CustomerFactory(name="Acme", tags=["vip", "emea"])

    html = client.get(url("customer_update", customer.pk), **htmx()).content.decode()

    assert 'value="Acme"' in html and 'value="vip, emea"' in html


def test_valid_edit_updates_the_card_and_row(client, login):
    login("agent")
    customer = CustomerFactory(name="Acme", industry="Retail")

    response = client.post(
        url("customer_update", customer.pk), {"name": "Acme Corp", "industry": "Energy", "tier": "free"}, **htmx()
    )

    html = response.content.decode()
    customer.refresh_from_db()
    assert (customer.name, customer.industry, customer.tier) == ("Acme Corp", "Energy", "free")
    assert response["HX-Trigger"] == "modal:close"
    assert '<section id="customer-info"' in html and 'hx-swap-oob="true"' in html
    assert "Acme Corp" in html and "Energy" in html
    assert "Saved Acme Corp." in html


def test_editing_keeps_its_own_name_without_a_duplicate_warning(client, login):
    login("agent")
    customer = CustomerFactory(name="Acme")

    response = client.post(url("customer_update", customer.pk), {"name": "Acme", "tier": "free"}, **htmx())

    assert response["HX-Trigger"] == "modal:close"


def test_delete_asks_for_confirmation_then_deletes(client, login):
    login("admin")
    customer = CustomerFactory(name="Acme")
    ContactFactory(customer=customer)

    confirm = client.get(url("customer_delete", customer.pk), **htmx())
    assert "Delete Acme?" in confirm.content.decode() and "1 contact" in confirm.content.decode()
    assert Customer.objects.exists()

    response = client.post(url("customer_delete", customer.pk), **htmx())
    assert response["HX-Redirect"] == url("customer_list")
    assert not Customer.objects.exists()

    after = client.get(url("customer_list"))
    assert "Deleted Acme and its 1 contact." in after.content.decode()


# --- Contacts -----------------------------------------------------------------------------------


def test_contact_create_in_modal_updates_the_contacts_table(client, login):
    login("sales")
    customer = CustomerFactory(name="Acme")

    form = client.get(url("contact_create", customer.pk), **htmx())
    assert 'name="email"' in form.content.decode()

    response = client.post(
        url("contact_create", customer.pk),
        {"name": "Jane", "email": "JANE@acme.test", "phone": "+1 555 0100"},
        **htmx(),
    )

    html = response.content.decode()
    assert response["HX-Trigger"] == "modal:close"
    assert '<section id="customer-contacts"' in html and "jane@acme.test" in html
    assert customer.contacts.get().email == "jane@acme.test"


def test_contact_create_rejects_a_duplicate_email_at_the_same_customer(client, login):
    login("agent")
    contact = ContactFactory(email="jane@acme.test")

    response = client.post(
        url("contact_create", contact.customer.pk), {"name": "Jane 2", "email": "Jane@acme.test"}, **htmx()
    )

    assert "already a contact at" in response.content.decode()
    assert Contact.objects.count() == 1


def test_contact_create_takes_a_non_ascii_local_part_and_refuses_a_broken_address(client, login):
    login("agent")
    customer = CustomerFactory()

    client.post(url("contact_create", customer.pk), {"name": "Jürgen", "email": "Jürgen@kunde.test"}, **htmx())
    refused = client.post(url("contact_create", customer.pk), {"name": "X", "email": "jürgen@@kunde"}, **htmx())

    assert customer.contacts.get().email == "jürgen@kunde.test"
    assert "Enter a valid email address." in refused.content.decode()


def test_contact_edit_and_delete(client, login):
    login("agent")
    contact = ContactFactory(name="Jane", title="CTO")

    edited = client.post(url("contact_update", contact.pk), {"name": "Jane Doe", "title": "CEO"}, **htmx())
    contact.refresh_from_db()
    assert (contact.name, contact.title) == ("Jane Doe", "CEO")
    assert edited["HX-Trigger"] == "modal:close"

    assert "Remove Jane Doe?" in client.get(url("contact_delete", contact.pk), **htmx()).content.decode()
    deleted = client.post(url("contact_delete", contact.pk), **htmx())
    assert deleted["HX-Trigger"] == "modal:close"
    assert "No contacts at" in deleted.content.decode()
    assert not Contact.objects.exists()


def test_contact_list_page_and_search_fragment(client, login):
    login("viewer")
    ContactFactory(name="Jane Doe", customer=CustomerFactory(name="Acme"))
    ContactFactory(name="John Smith")

    page = client.get(url("contact_list"))
    fragment = client.get(url("contact_list"), {"q": "jane"}, **htmx("contact-table"))

    assert "Jane Doe" in page.content.decode() and "John Smith" in page.content.decode()
    assert fragment.content.decode().lstrip().startswith('<div id="contact-table"')
    assert "John Smith" not in fragment.content.decode()


# --- Export -------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_export_streams_the_filtered_customers(client, login):
    login("viewer")
    CustomerFactory(name="Acme", tier="enterprise", tags=["vip"])
    CustomerFactory(name="Globex", tier="free")
    CustomerFactory(name="=cmd|' /C calc'!A0", tier="enterprise")

    response = client.get(url("customer_export"), {"tier": "enterprise"})

    rows = read_csv(response)
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    assert rows[0] == ["name", "domain", "industry", "tier", "owner_email", "tags", "contacts", "created"]
    assert [row[0] for row in rows[1:]] == ["'=cmd|' /C calc'!A0", "Acme"]  # formulas are neutralised


def test_contact_export(client, login):
    login("viewer")
    ContactFactory(name="Jane", email="jane@acme.test", customer=CustomerFactory(name="Acme", domain="acme.test"))

    rows = read_csv(client.get(url("contact_export")))

    assert rows[0] == ["customer", "customer_domain", "name", "email", "phone", "title", "created"]
    assert rows[1][:4] == ["Acme", "acme.test", "Jane", "jane@acme.test"]


# --- Import -------------------------------------------------------------------------------------


def upload(text: str, name: str = "customers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


BAD_CSV = "name,domain,tier\nAcme,acme.com,enterprise\nGlobex,globex.com,gold\n"


def test_import_page_explains_the_format(client, login):
    login("agent")

    html = client.get(url("customer_import")).content.decode()

    assert "owner_email" in html and "Import nothing" not in html
    assert 'type="file"' in html


def test_import_all_good_redirects_with_a_message(client, login):
    login("agent")

    response = client.post(url("customer_import"), {"file": upload("name\nAcme\nGlobex\n"), "mode": "all"}, follow=True)

    assert Customer.objects.count() == 2
    assert "Imported 2 customers." in response.content.decode()


def test_import_preview_lists_row_errors_and_imports_nothing(client, login):
    login("agent")

    response = client.post(url("customer_import"), {"file": upload(BAD_CSV), "mode": "all"})

    html = response.content.decode()
    assert response.status_code == 200
    assert not Customer.objects.exists()
    assert "Nothing was imported yet" in html
    assert "Tier “gold” is not one of" in html
    assert 'data-testid="import-nothing"' in html
    assert "Import the 1 valid row only" in html


def test_import_preview_then_valid_rows_only(client, login):
    login("agent")
    preview = client.post(url("customer_import"), {"file": upload(BAD_CSV), "mode": "all"})
    token = preview.context["token"]

    response = client.post(url("import_confirm", "customers", token), {"action": "valid_only"}, follow=True)

    assert list(Customer.objects.values_list("name", flat=True)) == ["Acme"]
    assert "Imported 1 customer; skipped 1 row with problems." in response.content.decode()
    # The stash is used up: a second click imports nothing twice.
    again = client.post(url("import_confirm", "customers", token), {"action": "valid_only"}, follow=True)
    assert "expired" in again.content.decode()
    assert Customer.objects.count() == 1


def test_import_preview_then_nothing(client, login):
    login("agent")
    token = client.post(url("customer_import"), {"file": upload(BAD_CSV), "mode": "all"}).context["token"]

    response = client.post(url("import_confirm", "customers", token), {"action": "discard"}, follow=True)

    assert not Customer.objects.exists()
    assert "Nothing was imported." in response.content.decode()


def test_import_valid_only_mode_reports_skipped_rows(client, login):
    login("agent")

    response = client.post(url("customer_import"), {"file": upload(BAD_CSV), "mode": "valid_only"})

    html = response.content.decode()
    assert Customer.objects.count() == 1
    assert "Imported 1 customer" in html and "skipped" in html


def test_import_bad_header_is_a_form_error(client, login):
    login("agent")

    response = client.post(url("customer_import"), {"file": upload("company;website;size\nA;a.com;3\n"), "mode": "all"})

    assert "Unknown column “size”" in response.content.decode()


def test_import_of_an_excel_workbook_explains_what_to_do(client, login):
    login("agent")

    response = client.post(url("customer_import"), {"file": upload("PK", name="customers.xlsx"), "mode": "all"})

    assert "spreadsheet workbook, not a CSV file" in response.content.decode()


def test_import_of_an_oversized_file_answers_413(client, login, settings):
    login("agent")
    settings.CSV_IMPORT_MAX_BYTES = 50

    response = client.post(url("customer_import"), {"file": upload("name\n" + "Acme\n" * 40), "mode": "all"})

    assert response.status_code == 413
    assert "the limit is 50 bytes" in response.content.decode()
    assert not Customer.objects.exists()


def test_import_request_bigger_than_any_upload_is_refused_before_reading(client, login, settings):
    login("agent")
    settings.MAX_REQUEST_BYTES = 200  # core's request size middleware answers before the view runs

    response = client.post(url("customer_import"), {"file": upload("name\n" + "Acme\n" * 100), "mode": "all"})

    assert response.status_code == 413
    assert not Customer.objects.exists()


def test_contact_import_page_and_upload(client, login):
    login("agent")
    CustomerFactory(name="Acme", domain="acme.com")

    assert "customer_domain" in client.get(url("contact_import")).content.decode()
    response = client.post(
        url("contact_import"), {"file": upload("customer_domain,name\nacme.com,Jane\n"), "mode": "all"}, follow=True
    )

    assert Contact.objects.get().name == "Jane"
    assert "Imported 1 contact." in response.content.decode()


# --- Who may do what ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for name, args in [("customer_list", ()), ("customer_create", ()), ("customer_import", ()), ("contact_list", ())]:
        response = client.get(url(name, *args))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_viewer_cannot_write(client, login):
    login("viewer")
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer)

    assert client.get(url("customer_create")).status_code == 403
    assert client.post(url("customer_create"), {"name": "X", "tier": "free"}).status_code == 403
    assert client.post(url("customer_update", customer.pk), {"name": "X", "tier": "free"}).status_code == 403
    assert client.post(url("customer_delete", customer.pk)).status_code == 403
    assert client.post(url("contact_create", customer.pk), {"name": "X"}).status_code == 403
    assert client.post(url("contact_update", contact.pk), {"name": "X"}).status_code == 403
    assert client.post(url("contact_delete", contact.pk)).status_code == 403
    assert client.get(url("customer_import")).status_code == 403
    assert client.post(url("import_confirm", "customers", "token"), {"action": "valid_only"}).status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists() and Contact.objects.count() == 1


@pytest.mark.parametrize("role", ["agent", "sales"])
def test_agents_and_sales_cannot_delete_customers(client, login, role):
    login(role)
    customer = CustomerFactory()

    assert client.get(url("customer_delete", customer.pk)).status_code == 403
    assert client.post(url("customer_delete", customer.pk)).status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert 'data-testid="customer-delete"' not in client.get(url("customer_detail", customer.pk)).content.decode()


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_may_delete(client, login, role):
    login(role)
    customer = CustomerFactory()

    assert client.post(url("customer_delete", customer.pk)).status_code == 302
    assert not Customer.objects.exists()


def test_every_view_declares_its_capability():
    from customers import urls

    for pattern in urls.urlpatterns:
        assert getattr(pattern.callback, "required_capability", "").startswith("customers."), pattern.name


def test_another_workspaces_customer_is_404_here(client, login, other_tenant, tenant):
    from django.db import connection

    connection.set_tenant(other_tenant)
    theirs = CustomerFactory(name="Beta's customer")
    their_contact = ContactFactory(customer=theirs)
    connection.set_tenant(tenant)
    login("admin")

    assert client.get(url("customer_detail", theirs.pk)).status_code == 404
    assert client.post(url("customer_delete", theirs.pk)).status_code == 404
    assert client.get(url("contact_update", their_contact.pk)).status_code == 404
    assert "Beta's customer" not in client.get(url("customer_list")).content.decode()
    assert client.get(reverse("customers_api:customer_detail", args=[theirs.pk])).status_code == 404


def test_detail_page_query_count_does_not_grow_with_contacts(client, login, django_assert_max_num_queries):
    login("agent")
    customer = CustomerFactory()
    ContactFactory.create_batch(15, customer=customer)

    # session, user, customer, contacts (+ savepoint slack); notes, open and done tasks, the task form's owners;
    # the health history; the timeline's first page: one query per activity type (3 of customers', 5 of the helpdesk's,
    # 5 of leads', 3 of quotes'); the registered panels (leads: the open leads; quotes: its quotes); yesterday's
    # summary.
    with django_assert_max_num_queries(29):
        response = client.get(url("customer_detail", customer.pk))

    assert response.content.decode().count('data-testid="contact-row"') == 15


def test_the_pager_walks_forward_and_back_through_the_customer_list(client, login):
    import re

    login("viewer")
    for index in range(55):
        CustomerFactory(name=f"Company {index:02d}")

    first = client.get(url("customer_list")).content.decode()
    next_href = re.search(r'rel="next" data-testid="page-next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(next_href).content.decode()
    prev_href = re.search(r'rel="prev" data-testid="page-prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")

    assert "Company 00" in first and "Company 54" not in first
    assert "Company 54" in second and "Company 00" not in second
    assert 'data-testid="page-next"' not in second  # the last page offers no "Next" link
    assert "Company 00" in client.get(prev_href).content.decode()


def test_list_says_plus_when_the_count_stops_at_the_cap(client, login, monkeypatch):
    from customers import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    CustomerFactory.create_batch(3)
    login("agent")
    assert "2+ customers" in client.get(url("customer_list")).content.decode()


def test_delete_of_a_customer_with_tickets_says_why_instead_of_crashing(client, login):
    from helpdesk.tests.factories import TicketFactory

    login("admin")
    customer = CustomerFactory(name="Acme")
    TicketFactory(requester=ContactFactory(customer=customer))
    TicketFactory(requester=ContactFactory(customer=customer))

    confirm = client.get(url("customer_delete", customer.pk), **htmx())
    refused = client.post(url("customer_delete", customer.pk), **htmx())

    message = "This customer still has 2 tickets. Reassign or delete them first."
    assert (
        message in confirm.content.decode() and 'data-testid="customer-delete-confirm"' not in confirm.content.decode()
    )
    assert refused.status_code == 200 and message in refused.content.decode()
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_delete_of_a_contact_with_tickets_says_why_instead_of_crashing(client, login):
    from helpdesk.tests.factories import TicketFactory

    login("admin")
    contact = ContactFactory(name="Jane Doe")
    TicketFactory(requester=contact)

    confirm = client.get(url("contact_delete", contact.pk), **htmx())
    refused = client.post(url("contact_delete", contact.pk))

    message = "This contact still has 1 ticket. Reassign or delete them first."
    assert (
        message in confirm.content.decode() and 'data-testid="contact-delete-confirm"' not in confirm.content.decode()
    )
    assert refused.status_code == 200 and message in refused.content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()
