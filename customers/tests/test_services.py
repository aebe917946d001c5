"""Customer and contact writes, and the CSV import: validation, all-or-nothing, valid rows only."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

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
