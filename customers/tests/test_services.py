"""Customer and contact writes, and the CSV import: validation, all-or-nothing, valid rows only."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import tenant_context

from customers import services
from customers.models import Contact, Customer
from customers.services import ImportMode

from .factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def csv_file(text: str, name: str = "customers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


# --- Customers ----------------------------------------------------------------------------------


def test_customer_create_normalises_domain_and_tags(make_user):
    actor = make_user("agent")

    customer = services.customer_create(
        actor=actor,
        name="  Acme  ",
        domain="https://www.Acme.com/about",
        tags="VIP, key account, vip",
        tier="enterprise",
    )

    customer.refresh_from_db()
    assert (customer.name, customer.domain, customer.tags) == ("Acme", "acme.com", ["vip", "key-account"])
    assert customer.tier == "enterprise"


def test_customer_create_rejects_invalid_values(make_user):
    with pytest.raises(ValidationError) as error:
        services.customer_create(actor=make_user("agent"), name="Acme", tier="platinum")

    assert "tier" in error.value.message_dict
    assert not Customer.objects.exists()


def test_customer_create_rejects_a_bad_domain(make_user):
    with pytest.raises(ValidationError, match="not a web domain"):
        services.customer_create(actor=make_user("agent"), name="Acme", domain="acme")


def test_customer_update_changes_only_given_fields(make_user):
    customer = CustomerFactory(name="Acme", domain="acme.test", industry="Retail")

    services.customer_update(customer=customer, actor=make_user("agent"), data={"industry": "Energy"})

    customer.refresh_from_db()
    assert (customer.name, customer.domain, customer.industry) == ("Acme", "acme.test", "Energy")


def test_customer_update_rejects_unknown_fields(make_user):
    with pytest.raises(TypeError, match="created"):
        services.customer_update(customer=CustomerFactory(), actor=make_user("agent"), data={"created": None})


def test_customer_delete_removes_contacts(make_user):
    customer = CustomerFactory()
    ContactFactory.create_batch(2, customer=customer)

    services.customer_delete(customer=customer, actor=make_user("admin"))

    assert not Customer.objects.exists()
    assert not Contact.objects.exists()


# --- Contacts -----------------------------------------------------------------------------------


def test_contact_create_update_delete(make_user):
    actor = make_user("agent")
    customer = CustomerFactory()

    contact = services.contact_create(
        actor=actor, customer=customer, name="Jane", email="Jane@Acme.TEST", phone="+1 (555) 010-0000"
    )
    assert contact.email == "jane@acme.test"

    services.contact_update(contact=contact, actor=actor, data={"title": "CTO"})
    contact.refresh_from_db()
    assert (contact.name, contact.title) == ("Jane", "CTO")

    services.contact_delete(contact=contact, actor=actor)
    assert not Contact.objects.exists()


def test_contact_create_rejects_text_as_phone(make_user):
    with pytest.raises(ValidationError, match="does not look like a phone number"):
        services.contact_create(actor=make_user("agent"), customer=CustomerFactory(), name="Jane", phone="call me")


# --- CSV import ---------------------------------------------------------------------------------

GOOD_AND_BAD = (
    "name,domain,tier,tags\n"
    'Acme,acme.com,enterprise,"vip, emea"\n'
    ",nameless.com,starter,\n"
    "Globex,globex.com,gold,\n"
    "Initech,initech.com,,\n"
)


def test_import_all_or_nothing_imports_nothing_when_a_row_is_bad(make_user):
    result = services.customers_import_csv(file=csv_file(GOOD_AND_BAD), actor=make_user("agent"))

    assert not Customer.objects.exists()
    assert result.blocked
    assert (result.total_rows, result.created, result.valid_rows) == (4, 0, 2)
    assert [error.row for error in result.errors] == [3, 4]


def test_import_errors_name_the_row_and_say_what_to_fix(make_user):
    result = services.customers_import_csv(file=csv_file(GOOD_AND_BAD), actor=make_user("agent"))

    assert str(result.errors[0]) == "Row 3: The name is empty; every customer needs one."
    assert str(result.errors[1]) == "Row 4: Tier “gold” is not one of free, starter, professional, enterprise."


def test_import_valid_only_imports_the_good_rows(make_user):
    result = services.customers_import_csv(
        file=csv_file(GOOD_AND_BAD), actor=make_user("agent"), mode=ImportMode.VALID_ONLY
    )

    assert result.created == 2
    assert not result.blocked
    acme = Customer.objects.get(name="Acme")
    assert (acme.tier, acme.tags) == ("enterprise", ["vip", "emea"])
    assert Customer.objects.get(name="Initech").tier == "starter"


def test_import_all_good_rows(make_user):
    owner = make_user("sales", email="dana@alpha.test")
    text = "Company,Website,Owner e-mail,Industry\nAcme,https://www.acme.com/,DANA@alpha.test,Retail\n"

    result = services.customers_import_csv(file=csv_file(text), actor=make_user("agent"))

    assert result.created == 1 and not result.errors
    acme = Customer.objects.get()
    assert (acme.name, acme.domain, acme.owner, acme.industry) == ("Acme", "acme.com", owner, "Retail")


def test_import_reads_excel_semicolons_and_windows_encoding(make_user):
    content = "name;domain;industry\r\nCafé Müller;cafe-mueller.de;Gastronomie\r\n".encode("cp1252")

    services.customers_import_csv(file=SimpleUploadedFile("x.csv", content), actor=make_user("agent"))

    assert Customer.objects.get().name == "Café Müller"


def test_import_reports_duplicates_of_existing_customers_and_within_the_file(make_user):
    CustomerFactory(name="Acme", domain="acme.com")
    CustomerFactory(name="No Domain Co", domain="")
    text = "name,domain\nAcme Again,acme.com\nNew,new.com\nNew copy,new.com\nno domain co,\n"

    result = services.customers_import_csv(file=csv_file(text), actor=make_user("agent"))

    messages = {error.row: " ".join(error.messages) for error in result.errors}
    assert "acme.com already belongs to the customer “Acme”" in messages[2]
    assert messages[4] == "Row 3 already has the domain new.com."
    assert "A customer named “no domain co” already exists" in messages[5]
    assert 3 not in messages


def test_import_checks_owner_emails_against_teammates(make_user):
    text = "name,owner_email\nAcme,nobody@alpha.test\n"

    result = services.customers_import_csv(file=csv_file(text), actor=make_user("agent"))

    assert "No teammate has the e-mail address nobody@alpha.test" in str(result.errors[0])


def test_import_flags_rows_with_more_values_than_columns(make_user):
    text = "name,domain\nSmith, Jones and Co,sjc.com\n"

    result = services.customers_import_csv(file=csv_file(text), actor=make_user("agent"))

    assert "needs quotes" in str(result.errors[0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("domain,tier\nacme.com,free\n", "The header row has no “name” column."),
        ("name,domian\nAcme,acme.com\n", "Unknown column “domian”."),
        ("name,name\nAcme,Acme\n", "Column “name” appears twice."),
        ("", "The file is empty."),
        ("name,domain\n", "The file has a header but no rows to import."),
    ],
)
def test_import_rejects_bad_files_with_a_clear_message(text, message, make_user):
    with pytest.raises(ValidationError) as error:
        services.customers_import_csv(file=csv_file(text), actor=make_user("agent"))

    assert message in " ".join(error.value.messages)
    assert not Customer.objects.exists()


def test_import_header_error_lists_the_expected_columns(make_user):
    with pytest.raises(ValidationError) as error:
        services.customers_import_csv(file=csv_file("company name x\n1\n"), actor=make_user("agent"))

    assert "expected name, domain, industry, tier, owner_email, tags" in error.value.messages[0]


def test_import_rejects_files_over_the_limit(settings, make_user):
    settings.CSV_IMPORT_MAX_BYTES = 100
    text = "name\n" + "".join(f"Customer {index}\n" for index in range(50))

    with pytest.raises(ValidationError) as error:
        services.customers_import_csv(file=csv_file(text), actor=make_user("agent"))

    assert error.value.code == "too_big"
    assert "the limit is 100 bytes" in error.value.messages[0]
    assert not Customer.objects.exists()


def test_import_rejects_spreadsheets_saved_as_binary(make_user):
    with pytest.raises(ValidationError, match="not a CSV text file"):
        services.customers_import_csv(file=ContentFile(b"PK\x03\x04\x00\x00binary"), actor=make_user("agent"))


def test_import_round_trips_an_export(make_user):
    from customers.csv_io import csv_lines
    from customers.selectors import customer_export_rows

    owner = make_user("sales")
    CustomerFactory(name="=HYPERLINK(evil)", domain="evil.test", owner=owner, tags=["vip"])
    exported = "".join(csv_lines(customer_export_rows())).encode()
    Customer.objects.all().delete()

    result = services.customers_import_csv(file=ContentFile(exported), actor=make_user("agent"))

    assert result.created == 1, result.errors
    customer = Customer.objects.get()
    assert (customer.name, customer.owner, customer.tags) == ("=HYPERLINK(evil)", owner, ["vip"])


def test_import_is_atomic_when_the_database_refuses_a_row(make_user, monkeypatch):
    def explode(*args, **kwargs):
        Customer.objects.create(name="written before the failure")
        raise RuntimeError("database went away")

    monkeypatch.setattr(Customer.objects, "bulk_create", explode)

    with pytest.raises(RuntimeError):
        services.customers_import_csv(file=csv_file("name\nAcme\n"), actor=make_user("agent"))

    assert not Customer.objects.exists()


def test_contacts_import_matches_customers_by_domain_or_name(make_user):
    acme = CustomerFactory(name="Acme", domain="acme.com")
    globex = CustomerFactory(name="Globex", domain="globex.com")
    CustomerFactory(name="Twin", domain="twin-a.com")
    CustomerFactory(name="Twin", domain="twin-b.com")
    ContactFactory(customer=acme, email="taken@acme.com")
    text = (
        "customer_domain,customer,name,email,phone\n"
        "acme.com,,Jane,jane@acme.com,+1 555 0100\n"
        ",globex,Hank,hank@globex.com,\n"
        ",Twin,Who,who@twin.com,\n"
        "nowhere.com,,Lost,,\n"
        "acme.com,,Dup,taken@acme.com,\n"
    )

    result = services.contacts_import_csv(file=csv_file(text), actor=make_user("agent"), mode=ImportMode.VALID_ONLY)

    assert result.created == 2
    added = Contact.objects.exclude(email="taken@acme.com")
    assert set(added.values_list("customer__name", "name", "phone")) == {
        ("Acme", "Jane", "+1 555 0100"),
        ("Globex", "Hank", ""),
    }
    messages = {error.row: str(error) for error in result.errors}
    assert "2 customers are named “Twin”" in messages[4]
    assert "No customer has the domain nowhere.com" in messages[5]
    assert "taken@acme.com is already a contact at Acme" in messages[6]
    assert globex.contacts.get().name == "Hank"


def test_contacts_import_needs_a_customer_column(make_user):
    with pytest.raises(ValidationError, match="customer_domain"):
        services.contacts_import_csv(file=csv_file("name,email\nJane,j@x.com\n"), actor=make_user("agent"))


def test_import_stash_is_per_user_and_read_once(make_user):
    dana, lee = make_user("agent"), make_user("agent")
    token = services.import_stash(content=b"name\nAcme\n", actor=dana, kind="customers")

    assert services.import_unstash(token=token, actor=lee, kind="customers") is None
    assert services.import_unstash(token=token, actor=dana, kind="customers") == b"name\nAcme\n"
    assert services.import_unstash(token=token, actor=dana, kind="customers") is None


# --- Columns the database derives from the contacts (migration 0003's triggers) -------------------


def search_text(customer: Customer) -> list[str]:
    return Customer.objects.values_list("search_text", flat=True).get(pk=customer.pk).split("\n")


def contact_count(customer: Customer) -> int:
    return Customer.objects.values_list("contact_count", flat=True).get(pk=customer.pk)


def test_customer_create_and_update_keep_the_search_text(make_user):
    actor = make_user("agent")
    customer = services.customer_create(actor=actor, name="Ärzte Zentrum", domain="ARZT.example")
    assert search_text(customer) == ["ärzte zentrum", "arzt.example"]

    services.customer_update(customer=customer, actor=actor, data={"name": "Praxis Süd", "tier": "enterprise"})

    assert search_text(customer) == ["praxis süd", "arzt.example"]


def test_contact_create_update_delete_keep_the_company_search_text_and_count(make_user):
    actor = make_user("agent")
    customer = CustomerFactory(name="Acme", domain="acme.test")

    jane = services.contact_create(actor=actor, customer=customer, name="Jane Doe", email="jane@acme.test")
    bob = services.contact_create(actor=actor, customer=customer, name="Bob", email="")
    assert search_text(customer) == ["acme", "acme.test", "jane doe", "jane@acme.test", "bob", ""]
    assert contact_count(customer) == 2

    services.contact_update(contact=jane, actor=actor, data={"name": "Jane Roe", "email": "roe@acme.test"})
    assert search_text(customer) == ["acme", "acme.test", "jane roe", "roe@acme.test", "bob", ""]

    services.contact_delete(contact=bob, actor=actor)
    assert search_text(customer) == ["acme", "acme.test", "jane roe", "roe@acme.test"]
    assert contact_count(customer) == 1


def test_contacts_import_adds_the_people_to_their_companies_search_text_and_count(make_user):
    acme = CustomerFactory(name="Acme", domain="acme.com")
    globex = CustomerFactory(name="Globex", domain="globex.com")
    text = "customer_domain,name,email\nacme.com,Jane,jane@acme.com\nglobex.com,Hank,hank@globex.com\n"

    services.contacts_import_csv(file=csv_file(text), actor=make_user("agent"))

    assert search_text(acme) == ["acme", "acme.com", "jane", "jane@acme.com"]
    assert search_text(globex) == ["globex", "globex.com", "hank", "hank@globex.com"]
    assert contact_count(acme) == contact_count(globex) == 1


def test_customers_import_fills_the_search_text(make_user):
    services.customers_import_csv(file=csv_file("name,domain\nInitech,initech.com\n"), actor=make_user("agent"))

    customer = Customer.objects.get()
    assert (search_text(customer), contact_count(customer)) == (["initech", "initech.com"], 0)


def test_search_text_follows_writes_that_bypass_the_services():
    """Admin inlines, bulk updates and moves between companies go straight to the database."""
    acme, globex = CustomerFactory(name="Acme", domain=""), CustomerFactory(name="Globex", domain="")
    ContactFactory(customer=acme, name="Jane", email="jane@x.test")
    ContactFactory(customer=acme, name="Hank", email="hank@x.test")

    Contact.objects.filter(name="Hank").update(customer=globex)
    assert search_text(acme) == ["acme", "", "jane", "jane@x.test"]
    assert search_text(globex) == ["globex", "", "hank", "hank@x.test"]
    assert contact_count(acme) == contact_count(globex) == 1

    Contact.objects.filter(customer=acme).update(name="Janet")
    assert search_text(acme) == ["acme", "", "janet", "jane@x.test"]

    Contact.objects.filter(customer=globex).delete()
    assert search_text(globex) == ["globex", ""]
    assert contact_count(globex) == 0


def row_version(customer: Customer) -> str:
    """Where the customer's row lives: every UPDATE writes a new version somewhere else."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ctid FROM {Customer._meta.db_table} WHERE id = %s", [customer.pk])
        return cursor.fetchone()[0]


def test_emptying_the_contacts_table_empties_every_company_s_people():
    customer = CustomerFactory(name="Acme", domain="")
    ContactFactory(customer=customer, name="Jane", email="jane@x.test")

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the insert's deferred foreign-key check, done now
        # CASCADE: other apps' tables (helpdesk tickets) reference contacts; they are empty here.
        cursor.execute(f"TRUNCATE {Contact._meta.db_table} CASCADE")

    assert search_text(customer) == ["acme", ""]
    assert contact_count(customer) == 0


def test_contact_changes_outside_the_search_text_leave_the_company_alone():
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer)
    before = row_version(customer)

    Contact.objects.filter(pk=contact.pk).update(phone="+1 555 0199", title="CEO")

    assert row_version(customer) == before


def test_derived_columns_cannot_be_set_by_hand():
    customer = CustomerFactory(name="Acme", domain="acme.test")
    ContactFactory(customer=customer, name="Jane", email="jane@acme.test")

    Customer.objects.filter(pk=customer.pk).update(search_text="something else")
    Customer.objects.filter(pk=customer.pk).update(contact_count=7)

    assert search_text(customer) == ["acme", "acme.test", "jane", "jane@acme.test"]
    assert contact_count(customer) == 1


def test_saving_a_stale_customer_object_cannot_write_back_old_derived_columns():
    customer = CustomerFactory(name="Acme", domain="acme.test")  # holds the text from before the contact
    ContactFactory(customer=customer, name="Jane", email="jane@acme.test")

    customer.industry = "Retail"
    customer.save()  # every column, search_text and contact_count included

    assert search_text(customer) == ["acme", "acme.test", "jane", "jane@acme.test"]
    assert contact_count(customer) == 1


def test_search_text_triggers_work_in_every_workspace_whatever_the_search_path(tenant, other_tenant):
    """The triggers name their tables through the schema of the row written, so cloned workspaces and writes
    made under another search_path update the right company."""
    customer = CustomerFactory(name="Acme", domain="")
    table = f"{connection.ops.quote_name(tenant.schema_name)}.{Contact._meta.db_table}"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL search_path = public")
        cursor.execute(
            f"INSERT INTO {table} (customer_id, name, email, phone, title, created, updated)"
            " VALUES (%s, 'Jane', 'jane@x.test', '', '', now(), now())",
            [customer.pk],
        )
        cursor.execute(f"SET LOCAL search_path = {connection.ops.quote_name(tenant.schema_name)}, public")
    assert search_text(customer) == ["acme", "", "jane", "jane@x.test"]

    with tenant_context(other_tenant):
        elsewhere = CustomerFactory(name="Beta Corp", domain="")
        ContactFactory(customer=elsewhere, name="Hank", email="hank@y.test")
        assert search_text(elsewhere) == ["beta corp", "", "hank", "hank@y.test"]
    assert search_text(customer) == ["acme", "", "jane", "jane@x.test"]
