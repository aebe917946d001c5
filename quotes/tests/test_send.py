"""Sending a quote: the revision frozen with its PDF's sha256 (the same bytes every time it is rendered again),
the email with the PDF and the customer's link through the inbox's outbound mail (ending in var/mail in
development), one transaction, re-sends, the send dialog, delivery status, and the PDF downloads (pages and API)."""

from __future__ import annotations

import email
import email.policy
import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from core.links import workspace_url
from inbox.models import OutboundEmail
from inbox.tests.factories import MailboxFactory
from quotes import printing, sending, services
from quotes.models import QuoteRevision, QuoteStatus
from quotes.pdf import QuotePdfError

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def quote(customer, contact, product):
    contact.email = "peter@initech.test"
    contact.save()
    quote = services.quote_create(actor=None, customer_id=customer.pk, contact_id=contact.pk, title="Rollout")
    services.quote_line_add(quote=quote, actor=None, product=product, data={"quantity": Decimal(3)})
    quote.refresh_from_db()
    return quote


def send(quote, actor=None, capture=None, **fields):
    values = {"to": "peter@initech.test", "subject": f"Quote {quote.reference}", "message": "Here it is."} | fields
    if capture is None:
        return sending.quote_send(quote=quote, actor=actor, **values)
    with capture(execute=True):
        return sending.quote_send(quote=quote, actor=actor, **values)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- The revision and its PDF ---------------------------------------------------------------------------------------


def test_sending_freezes_the_revision_with_the_sha256_of_a_pdf_that_renders_again_byte_for_byte(quote):
    sent = send(quote)

    revision = QuoteRevision.objects.get(quote=quote)
    assert sent.quote.status == QuoteStatus.SENT and sent.revision == revision and not sent.resent
    assert len(revision.pdf_sha256) == 64
    first = printing.revision_pdf(revision)
    printing.document_pdf.cache_clear()  # a real second render, not the cached bytes
    again = printing.revision_pdf(QuoteRevision.objects.get(pk=revision.pk))
    assert first == again and sha256(again) == revision.pdf_sha256
    printed = revision.snapshot["print"]
    assert printed["workspace_name"] == connection.tenant.name and printed["customer"]["name"] == "Initrode"
    assert printed["contact"]["email"] == "peter@initech.test"
    assert printed["public_url"].startswith(workspace_url("/q/"))


def test_a_later_change_to_the_company_does_not_change_a_sent_revisions_pdf(quote, customer):
    revision = send(quote).revision
    customer.name = "Initrode Global"
    customer.save()
    printing.document_pdf.cache_clear()

    assert sha256(printing.revision_pdf(QuoteRevision.objects.get(pk=revision.pk))) == revision.pdf_sha256


def test_marking_sent_by_hand_also_stores_the_pdf_hash(quote):
    services.quote_status_set(quote=quote, status=QuoteStatus.SENT, actor=None)
    assert len(QuoteRevision.objects.get(quote=quote).pdf_sha256) == 64


# --- The email ------------------------------------------------------------------------------------------------------


def test_the_email_in_var_mail_has_the_pdf_the_public_link_on_the_workspace_host_and_the_workspace_address(
    quote, settings, tmp_path, make_user, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    # A mailbox without an SMTP server of its own: its address, the platform's way out (var/mail in development).
    MailboxFactory(address="sales@acme.test", display_name="Acme Sales", is_default=True)
    seller = make_user("sales", name="Ada Lovelace", email="ada@acme.test")
    defaults = sending.quote_send_defaults(quote=quote, sender_name="Ada Lovelace")

    sent = send(quote, seller, django_capture_on_commit_callbacks, to=defaults.to, subject=defaults.subject,
                message=defaults.message)  # fmt: skip

    (written,) = list(tmp_path.iterdir())
    raw = written.read_bytes().rsplit(b"-" * 79, 1)[0]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["From"].addresses[0].addr_spec == "sales@acme.test"
    assert message["From"].addresses[0].display_name == "Ada Lovelace via Acme Sales"
    assert message["To"].addresses[0].addr_spec == "peter@initech.test"
    assert message["Reply-To"].addresses[0].addr_spec == "ada@acme.test"
    assert message["Subject"] == f"Quote {quote.reference} from {connection.tenant.name}"
    text = message.get_body(("plain",)).get_content()
    assert workspace_url("/q/") in text and "Hello Peter Gibbons," in text
    (pdf,) = list(message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == f"{quote.reference}-rev1.pdf"
    assert sha256(pdf.get_content()) == sent.revision.pdf_sha256
    assert OutboundEmail.objects.get().status == "sent"
    (delivery,) = sending.quote_email_deliveries(quote=quote)
    assert delivery.status == "sent" and sending.delivery_revision(delivery) == 1


def test_a_message_without_the_customers_link_gets_one(quote, django_capture_on_commit_callbacks):
    send(quote, message="See attached.")
    body = OutboundEmail.objects.get().body
    assert body.startswith("See attached.") and workspace_url("/q/") in body


def test_sending_again_unchanged_sends_the_same_revision_and_an_edit_then_sends_the_next(quote, product):
    first = send(quote)
    again = send(quote, cc="bill@initech.test")

    assert again.resent and again.revision == first.revision and QuoteRevision.objects.count() == 1
    emails = OutboundEmail.objects.order_by("id")
    assert [e.reference for e in emails] == [f"quote:{quote.pk}:1"] * 2
    assert emails[0].attachments[0]["sha256"] == emails[1].attachments[0]["sha256"] == first.revision.pdf_sha256
    assert emails[1].cc == ["bill@initech.test"]

    services.quote_line_add(quote=again.quote, actor=None, product=product)
    third = send(QuoteRevision.objects.get().quote)
    assert third.revision.number == 2 and not third.resent
    assert third.revision.pdf_sha256 != first.revision.pdf_sha256
    assert OutboundEmail.objects.order_by("-id").first().attachments[0]["filename"] == f"{quote.reference}-rev2.pdf"


def test_a_bad_address_refuses_everything(quote):
    with pytest.raises(ValidationError) as refused:
        send(quote, to="peter@initech.test, peter at initech")
    assert "to" in refused.value.message_dict
    quote.refresh_from_db()
    assert (
        quote.status == QuoteStatus.DRAFT and not QuoteRevision.objects.exists() and not OutboundEmail.objects.exists()
    )


def test_a_pdf_that_cannot_be_made_rolls_back_the_status_and_the_email(quote, monkeypatch):
    def broken(document):
        raise QuotePdfError("Quote template failed: boom")

    monkeypatch.setattr(printing, "quote_pdf_render", broken)
    printing.document_pdf.cache_clear()

    with pytest.raises(ValidationError, match="The PDF could not be made, nothing was sent"):
        send(quote)

    quote.refresh_from_db()
    assert (
        quote.status == QuoteStatus.DRAFT and not QuoteRevision.objects.exists() and not OutboundEmail.objects.exists()
    )


def test_an_empty_or_closed_quote_is_not_sent(customer, quote):
    empty = services.quote_create(actor=None, customer_id=customer.pk, title="Empty")
    with pytest.raises(ValidationError, match="Add at least one line"):
        send(empty)
    services.quote_status_set(quote=quote, status=QuoteStatus.SENT, actor=None)
    services.quote_status_set(quote=quote, status=QuoteStatus.DECLINED, actor=None, reason="Too dear")
    quote.refresh_from_db()
    with pytest.raises(ValidationError, match="declined"):
        send(quote)
    assert not OutboundEmail.objects.exists()


# --- The dialog and the page ----------------------------------------------------------------------------------------


def test_the_send_dialog_is_filled_in_and_sending_marks_the_quote_sent_and_shows_the_delivery(
    client, login, quote, django_capture_on_commit_callbacks
):
    login("sales", name="Ada Lovelace")
    url = reverse("quotes:quote_send", args=[quote.pk])

    dialog = client.get(url, **HTMX)
    html = dialog.content.decode()
    assert dialog.status_code == 200 and 'data-testid="quote-send-form"' in html and "<html" not in html
    assert 'value="peter@initech.test"' in html
    assert f"Quote {quote.reference} from {connection.tenant.name}" in html
    assert workspace_url("/q/") in html and f"{quote.reference}-rev1.pdf" in html

    form = {"version": quote.version, "to": "peter@initech.test, Bill <bill@initech.test>", "cc": "",
            "subject": "Our quote", "message": "Hello"}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url, form, **HTMX)
    assert answer.status_code == 200 and answer["HX-Redirect"] == reverse("quotes:quote_detail", args=[quote.pk])
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert OutboundEmail.objects.get().to == ["peter@initech.test", "Bill <bill@initech.test>"]

    page = client.get(reverse("quotes:quote_detail", args=[quote.pk])).content.decode()
    assert 'data-testid="quote-delivery"' in page and "Sent</span>" in page and "Send again…" in page


def test_without_a_contact_address_to_is_empty_and_required_and_bad_addresses_are_named(client, login, quote, contact):
    contact.email = ""
    contact.save()
    login("sales")
    url = reverse("quotes:quote_send", args=[quote.pk])

    html = client.get(url, **HTMX).content.decode()
    assert 'name="to" value=' not in html and 'name="to"' in html and "required" in html

    empty = client.post(url, {"version": quote.version, "to": "", "subject": "Q", "message": "Hi"}, **HTMX)
    assert "This field is required." in empty.content.decode()
    bad = client.post(
        url, {"version": quote.version, "to": "ann@x.test, nobody", "subject": "Q", "message": "Hi"}, **HTMX
    )
    assert "“nobody” is not an email address." in bad.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT and not OutboundEmail.objects.exists()


def test_a_stale_dialog_is_refused_and_says_why(client, login, quote):
    login("sales")
    url = reverse("quotes:quote_send", args=[quote.pk])
    form = {"version": quote.version - 1 or 999, "to": "peter@initech.test", "subject": "Q", "message": "Hi"}
    answer = client.post(url, form, **HTMX)
    assert "Someone else changed this quote" in answer.content.decode()
    assert not OutboundEmail.objects.exists()


def test_a_viewer_may_download_but_not_send(client, login, quote):
    login("viewer")
    assert client.get(reverse("quotes:quote_send", args=[quote.pk])).status_code == 403
    assert client.get(reverse("quotes:quote_pdf", args=[quote.pk])).status_code == 200


# --- Downloads ------------------------------------------------------------------------------------------------------


def test_the_pdf_pages_give_a_draft_preview_then_the_sent_revisions_exact_bytes(client, login, quote):
    login("viewer")
    preview = client.get(reverse("quotes:quote_pdf", args=[quote.pk]))
    assert preview["Content-Type"] == "application/pdf" and preview.content.startswith(b"%PDF")
    assert preview["Content-Disposition"] == f'attachment; filename="{quote.reference}-rev1-draft.pdf"'

    revision = send(quote).revision
    current = client.get(reverse("quotes:quote_pdf", args=[quote.pk]))
    by_revision = client.get(reverse("quotes:revision_pdf", args=[revision.pk]))
    for answer in (current, by_revision):
        assert answer["Content-Disposition"] == f'attachment; filename="{quote.reference}-rev1.pdf"'
        assert sha256(answer.content) == revision.pdf_sha256
        assert answer["X-Content-Type-Options"] == "nosniff"


def test_the_api_gives_the_pdf_of_the_quote_or_of_a_sent_revision(client, login, quote, product):
    login("viewer")
    path = reverse("quotes_api:quote_pdf", args=[quote.pk])
    first = send(quote).revision
    services.quote_line_add(quote=quote, actor=None, product=product)
    second = send(QuoteRevision.objects.get().quote).revision

    current = client.get(path)
    older = client.get(path, {"revision": 1})
    assert current["Content-Type"] == "application/pdf" and sha256(current.content) == second.pdf_sha256
    assert current["Content-Disposition"] == f'attachment; filename="{quote.reference}-rev2.pdf"'
    assert sha256(older.content) == first.pdf_sha256
    assert client.get(path, {"revision": 7}).status_code == 404
    assert client.get(path, {"revision": "x"}).status_code == 400
    assert client.get(reverse("quotes_api:quote_pdf", args=[999_999])).status_code == 404
