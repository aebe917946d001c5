"""The customer's public quote page: the sent revision with its options and server-side totals, viewed once,
accept (name, terms, signature, fingerprints) and decline, and every refused link or action answered clearly."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.signing import b64_encode
from django.db import connections, transaction
from django.urls import resolve, reverse
from django_tenants.utils import tenant_context

from core.testing.live import run_in_thread
from customers.models import Customer
from leads import services as lead_services
from leads.models import Lead, StageKind
from quotes import acceptance, services, views_public
from quotes.documents import date_format
from quotes.models import EventKind, Quote, QuoteAcceptance, QuoteEvent, QuoteLine, QuoteRevision, QuoteStatus
from quotes.public import PUBLIC_PATH, quote_public_url, quote_token_make

pytestmark = pytest.mark.django_db

HTMX_TOTALS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "quote-totals"}
# A 1×1 transparent PNG: what the signature pad posts, only larger.
PNG = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
        )
    ).decode()
)


@pytest.fixture
def quote(customer, contact, product, service_product):
    """Sent: a heading, 2 Pro seats (98.00 + 20 % tax) and optional onboarding (150.00 + 10 %), not ticked."""
    lead = lead_services.lead_create(actor=None, title="Helpdesk rollout", customer=customer, contact=contact)
    quote = services.quote_create(actor=None, lead_id=lead.pk, title="Rollout", terms="Payable in 30 days.")
    services.quote_line_add(quote=quote, actor=None, kind="section", data={"description": "Licences"})
    services.quote_line_add(quote=quote, actor=None, product=product, data={"quantity": "2"})
    services.quote_line_add(
        quote=quote, actor=None, product=service_product, data={"optional": True, "selected": False}
    )
    return services.quote_status_set(quote=quote, status=QuoteStatus.SENT, actor=None)


@pytest.fixture
def option(quote):
    return QuoteLine.objects.get(quote=quote, optional=True)


def _url(quote, name: str = "quote_public", **kwargs) -> str:
    return reverse(f"quotes_public:{name}", args=[quote_token_make(quote=quote, **kwargs)])


def _accept(client, quote, REMOTE_ADDR="203.0.113.9", **data):
    values = {"name": "Jane Doe", "accept_terms": "on", "options": "1", **data}
    return client.post(_url(quote, "accept"), values, HTTP_USER_AGENT="Phone/1.0", REMOTE_ADDR=REMOTE_ADDR)


# --- The page -----------------------------------------------------------------------------------


def test_the_emailed_link_opens_this_page(quote):
    url = quote_public_url(quote=quote)
    path = urlsplit(url).path
    assert resolve(path, urlconf="config.urls.tenant").func is views_public.quote_public
    assert path == PUBLIC_PATH.format(token=path.split("/")[2])


def test_an_anonymous_customer_sees_the_sent_revision_with_its_terms_and_totals(client, quote):
    response = client.get(_url(quote))

    body = response.content.decode()
    assert response.status_code == 200
    assert quote.reference in body and "Licences" in body and "Onboarding" in body
    assert "Payable in 30 days." in body and date_format(quote.valid_until) in body
    assert 'data-testid="public-total">$117.60<' in body
    assert 'data-testid="accept-form"' in body


def test_the_page_shows_what_was_sent_even_after_the_lines_changed(client, quote, option):
    url = _url(quote)
    services.quote_line_update(line=option, actor=None, data={"description": "Changed after sending"})

    body = client.get(url).content.decode()

    assert "Onboarding" in body and "Changed after sending" not in body
    assert 'data-testid="quote-closed"' in body and 'data-testid="accept-form"' not in body


def test_the_first_open_marks_the_quote_viewed_once(client, quote):
    url = _url(quote)
    client.get(url)
    client.get(url)

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.VIEWED
    viewed = QuoteEvent.objects.filter(quote=quote, kind=EventKind.STATUS, to_status=QuoteStatus.VIEWED)
    assert viewed.count() == 1 and viewed.get().actor is None


def test_ticking_an_option_recomputes_the_totals_on_the_server(client, quote, option):
    url = _url(quote)

    ticked = client.get(url, {"options": "1", "line": [option.pk]}, **HTMX_TOTALS).content.decode()
    unticked = client.get(url, {"options": "1"}, **HTMX_TOTALS).content.decode()

    # 98.00 + 150.00; tax 19.60 at 20 % and 15.00 at 10 %.
    assert 'id="quote-totals"' in ticked and "<html" not in ticked
    assert 'data-testid="public-subtotal">$248.00<' in ticked and 'data-testid="public-total">$282.60<' in ticked
    assert 'data-testid="public-total">$117.60<' in unticked


def test_without_javascript_update_total_keeps_the_ticks_and_the_typed_name(client, quote, option):
    response = client.post(
        _url(quote, "accept"), {"action": "recalculate", "options": "1", "line": [option.pk], "name": "Jane Doe"}
    )

    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="public-total">$282.60<' in body
    assert 'value="Jane Doe"' in body and 'is-invalid"' not in body
    assert not QuoteAcceptance.objects.exists()


# --- Accepting ----------------------------------------------------------------------------------


def test_accepting_with_a_ticked_option_records_who_what_and_wins_the_lead(client, quote, option):
    revision = QuoteRevision.objects.get(quote=quote, number=1)
    QuoteRevision.objects.filter(pk=revision.pk).update(pdf_sha256="ab" * 32)

    response = _accept(client, quote, line=[option.pk], signature=PNG)

    assert response.status_code == 302 and response["Location"].endswith("?done=accepted")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED and str(quote.total) == "282.600"
    assert QuoteLine.objects.get(pk=option.pk).selected
    record = QuoteAcceptance.objects.get(quote=quote)
    canonical = json.dumps(revision.snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert record.revision_sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    assert record.pdf_sha256 == "ab" * 32 and record.revision == revision
    assert (record.name, record.ip, record.user_agent) == ("Jane Doe", "203.0.113.9", "Phone/1.0")
    assert record.selected_lines == [option.pk] and record.signature == PNG
    assert QuoteRevision.objects.get(pk=revision.pk).accepted
    assert Lead.objects.select_related("stage").get(pk=quote.lead_id).stage.kind == StageKind.WON
    event = QuoteEvent.objects.get(quote=quote, to_status=QuoteStatus.ACCEPTED)
    assert event.summary == "Accepted by Jane Doe"
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="quote-accepted"' in page and "Accepted by Jane Doe" in page
    assert 'data-testid="public-total">$282.60<' in page  # the accepted ticks, not the sent ones
    assert 'data-testid="accept-form"' not in page


def test_an_untouched_option_stays_out_of_the_accepted_quote(client, quote, option):
    _accept(client, quote)

    quote.refresh_from_db()
    assert str(quote.total) == "117.600" and not QuoteLine.objects.get(pk=option.pk).selected


def test_an_acceptance_without_a_known_address_is_recorded_without_one(client, quote):
    assert _accept(client, quote, REMOTE_ADDR="").status_code == 302

    assert QuoteAcceptance.objects.get(quote=quote).ip is None


def test_accepting_needs_a_name_and_the_terms_ticked(client, quote):
    response = client.post(_url(quote, "accept"), {"name": " ", "options": "1"})

    body = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in body and 'id="accept-terms"' in body
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and not QuoteAcceptance.objects.exists()


@pytest.mark.parametrize(
    "signature",
    [
        "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff").decode(),  # not a PNG data URL
        "data:image/png;base64," + base64.b64encode(b"GIF89a....").decode(),  # says PNG, is not
        "data:image/png;base64,***",  # not base64
        "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 70_000).decode(),  # too big
    ],
    ids=["jpeg", "fake-png", "garbage", "too-big"],
)
def test_a_signature_must_be_a_small_png(client, quote, signature):
    response = _accept(client, quote, signature=signature)

    assert response.status_code == 400 and "The signature could not be read" in response.content.decode()
    assert not QuoteAcceptance.objects.exists()


def test_accepting_twice_says_it_was_already_accepted(client, quote):
    _accept(client, quote)

    response = _accept(client, quote, name="Someone Else")

    assert response.status_code == 400 and "already accepted" in response.content.decode()
    assert QuoteAcceptance.objects.get(quote=quote).name == "Jane Doe"


def test_an_accepted_quote_can_no_longer_change(client, quote, option, product):
    _accept(client, quote)

    quote.refresh_from_db()
    with pytest.raises(ValidationError):
        services.quote_line_update(line=option, actor=None, data={"quantity": "5"})
    with pytest.raises(ValidationError):
        services.quote_line_add(quote=quote, actor=None, product=product)
    assert QuoteRevision.objects.filter(quote=quote).count() == 1


def test_a_declined_quote_cannot_be_accepted(client, quote):
    client.post(_url(quote, "decline"), {"reason": "Too expensive"})

    response = _accept(client, quote)

    assert response.status_code == 400 and "declined" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED


def test_a_quote_being_revised_cannot_be_accepted_on_the_old_link(client, quote, option):
    url = _url(quote, "accept")
    services.quote_line_update(line=option, actor=None, data={"quantity": "2"})

    response = client.post(url, {"name": "Jane Doe", "accept_terms": "on"})

    assert response.status_code == 400 and "newer version will be sent" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


def test_the_service_refuses_a_link_for_an_older_revision(quote, option):
    first = QuoteRevision.objects.get(quote=quote, number=1)
    services.quote_line_update(line=option, actor=None, data={"quantity": "2"})
    services.quote_status_set(quote=quote, status=QuoteStatus.SENT, actor=None)

    with pytest.raises(ValidationError) as refused:
        acceptance.quote_accept(quote=quote, revision=first, name="Jane Doe", terms_accepted=True)

    assert refused.value.code == "revised"


# --- Declining ----------------------------------------------------------------------------------


def test_declining_needs_a_reason_of_at_most_300_characters(client, quote):
    empty = client.post(_url(quote, "decline"), {"reason": ""})
    long = client.post(_url(quote, "decline"), {"reason": "x" * 301})
    done = client.post(_url(quote, "decline"), {"reason": "We chose another vendor."})

    assert empty.status_code == 400 and long.status_code == 400 and done.status_code == 302
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED and quote.decline_reason == "We chose another vendor."
    assert "We chose another vendor." in client.get(done["Location"]).content.decode()


# --- Refused links ------------------------------------------------------------------------------


def _refused(response, status: int, kind: str) -> str:
    body = response.content.decode()
    assert response.status_code == status and f'data-refused="{kind}"' in body
    return body


def test_a_tampered_token_is_not_valid(client, quote, customer):
    token = quote_token_make(quote=quote)
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    other = services.quote_create(actor=None, customer_id=customer.pk, title="Other")
    # Another quote's payload under this quote's timestamp and signature.
    _payload, stamp, signature = token.rsplit(":", 2)
    swapped = ":".join([b64_encode(json.dumps([other.pk, other.number, 1]).encode()).decode(), stamp, signature])

    for bad in (changed, swapped, "x", token + "x"):
        body = _refused(client.get(reverse("quotes_public:quote_public", args=[bad])), 404, "invalid")
        assert "This link is not valid" in body
        assert client.post(reverse("quotes_public:accept", args=[bad]), {"name": "X"}).status_code == 404
    assert not QuoteAcceptance.objects.exists()


def test_a_link_past_the_validity_date_says_the_quote_expired(client, quote):
    token = quote_token_make(quote=quote)
    Quote.objects.filter(pk=quote.pk).update(valid_until=datetime.date.today() - datetime.timedelta(days=1))

    body = _refused(client.get(reverse("quotes_public:quote_public", args=[token])), 410, "expired")

    assert quote.reference in body and "Contact us" in body
    assert _accept_status(client, token) == 410


def test_a_quote_the_sweep_expired_says_so(client, quote):
    url = _url(quote)
    services.quote_status_set(quote=quote, status=QuoteStatus.EXPIRED, actor=None)

    body = _refused(client.get(url), 410, "expired")

    assert quote.reference in body


def test_a_link_older_than_its_max_age_says_the_quote_expired(client, quote, settings, monkeypatch):
    signed_at = time.time() - (settings.QUOTE_LINK_MAX_AGE_DAYS + 1) * 86400
    monkeypatch.setattr("django.core.signing.time.time", lambda: signed_at)
    token = quote_token_make(quote=quote)
    monkeypatch.undo()

    body = _refused(client.get(reverse("quotes_public:quote_public", args=[token])), 410, "expired")

    assert quote.reference in body
    assert _accept_status(client, token) == 410


def _accept_status(client, token: str) -> int:
    return client.post(reverse("quotes_public:accept", args=[token]), {"name": "J", "accept_terms": "on"}).status_code


def test_a_link_to_a_revised_quote_points_to_the_newer_version(client, quote, option):
    old = quote_token_make(quote=quote)
    services.quote_line_update(line=option, actor=None, data={"quantity": "2"})
    services.quote_status_set(quote=quote, status=QuoteStatus.SENT, actor=None)

    body = _refused(client.get(reverse("quotes_public:quote_public", args=[old])), 410, "revised")

    assert "newer version" in body
    assert _accept_status(client, old) == 410
    quote.refresh_from_db()
    assert client.get(_url(quote)).status_code == 200


def test_posts_are_rate_limited_per_address(client, quote, monkeypatch):
    monkeypatch.setattr(views_public, "LIMIT", (2, 3600))
    url = _url(quote, "decline")

    statuses = [client.post(url, {"reason": ""}).status_code for _ in range(3)]

    assert statuses == [400, 400, 429]


# --- Staff --------------------------------------------------------------------------------------


def test_staff_see_the_acceptance_on_the_builder(client, quote, login):
    _accept(client, quote, signature=PNG)
    login("sales")

    body = client.get(reverse("quotes:quote_detail", args=[quote.pk])).content.decode()

    record = QuoteAcceptance.objects.get(quote=quote)
    assert 'data-testid="quote-acceptance"' in body and "Jane Doe" in body and "203.0.113.9" in body
    assert "Phone/1.0" in body and record.revision_sha256 in body and 'data-testid="acceptance-signature"' in body


# --- Concurrency --------------------------------------------------------------------------------


@pytest.fixture
def committed_quote(tenant):
    """A sent quote committed for other connections; removed afterwards with its company and owner."""
    from quotes.tests.factories import quote_sent

    def setup():
        with tenant_context(tenant):
            quote = quote_sent()
            return quote.pk, quote.customer_id, quote.owner_id

    quote_id, customer_id, owner_id = run_in_thread(setup)
    yield quote_id

    def cleanup():
        with tenant_context(tenant):
            Quote.objects.filter(pk=quote_id).delete()
            Customer.objects.filter(pk=customer_id).delete()
            get_user_model().objects.filter(pk=owner_id).delete()

    run_in_thread(cleanup)


def test_of_a_concurrent_decline_and_accept_the_first_to_lock_wins(tenant, committed_quote):
    locked, release = threading.Event(), threading.Event()

    def decline():
        with tenant_context(tenant), transaction.atomic():
            quote = Quote.objects.get(pk=committed_quote)
            acceptance.quote_decline(quote=quote, revision=quote.revisions.get(), reason="Too late")
            locked.set()  # the quote row stays locked until this transaction commits
            release.wait(timeout=30)

    def accept():
        with tenant_context(tenant):
            quote = Quote.objects.get(pk=committed_quote)
            try:
                acceptance.quote_accept(quote=quote, revision=quote.revisions.get(), name="Jane", terms_accepted=True)
            except ValidationError as error:
                return error.code
            return "accepted"

    with ThreadPoolExecutor(max_workers=2) as pool:
        declining = pool.submit(lambda: _on_own_connection(decline))
        assert locked.wait(timeout=30)
        accepting = pool.submit(lambda: _on_own_connection(accept))
        release.set()
        declining.result(timeout=30)
        outcome = accepting.result(timeout=30)

    def state():
        with tenant_context(tenant):
            return Quote.objects.get(pk=committed_quote).status, QuoteAcceptance.objects.filter(
                quote_id=committed_quote
            ).exists()

    assert outcome == "declined"
    assert run_in_thread(state) == (QuoteStatus.DECLINED, False)


def _on_own_connection(function):
    try:
        return function()
    finally:
        connections.close_all()
