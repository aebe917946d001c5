"""Lead capture: capture forms' settings, a submission becoming a lead (matched with companies and contacts, one
lead per submission id), and the public form's guards (origin, key, honeypot, token, rate limit, tenant)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from customers.tests.factories import ContactFactory, CustomerFactory
from leads import capture, views_capture
from leads.capture_forms import form_token
from leads.models import Lead, LeadActivity, LeadCaptureForm, LeadCaptureSubmission

from .factories import LeadCaptureFormFactory

pytestmark = pytest.mark.django_db

SITE = "https://www.example.org"
HOST = "http://alpha.localhost"


@pytest.fixture
def capture_form(pipeline):
    return LeadCaptureFormFactory(allowed_origins=[SITE], shown_fields=["company", "phone", "message", "value"])


def submission(**values) -> capture.CaptureSubmission:
    fields = {"submission_id": uuid.uuid4(), "name": "Ada Lovelace", "email": "ada@engines.test"} | values
    return capture.CaptureSubmission(**fields)


def embed_url(form: LeadCaptureForm) -> str:
    return reverse("leads:capture_embed", args=[form.public_key])


def post(client: Client, form: LeadCaptureForm, *, origin: str = HOST, token: str = "", environ=None, **data):
    token = token or form_token(form, submission_id=uuid.uuid4(), origin=SITE)
    payload = {"name": "Ada Lovelace", "email": "ada@engines.test", "token": token} | data
    return client.post(embed_url(form), payload, HTTP_ORIGIN=origin, **(environ or {}))


# --- Services -----------------------------------------------------------------------------------


def test_a_submission_becomes_a_web_form_lead_in_the_forms_stage_with_its_owner_and_a_follow_up(
    capture_form, stages, make_user
):
    seller = make_user("sales")
    capture.capture_form_update(form=capture_form, stage=stages["Qualified"], default_owner=seller, currency="eur")

    lead, created = capture.capture_submit(
        form=capture_form,
        submission=submission(company="Engines Ltd", phone="+44 20 7946 0000", message="Need 40 seats", value=9000),
        origin=SITE,
    )

    assert created
    assert lead.source == Lead.Source.WEB_FORM and lead.stage == stages["Qualified"] and lead.owner == seller
    assert (lead.title, lead.company_name, lead.contact_name, lead.contact_email) == (
        "Engines Ltd (web form)", "Engines Ltd", "Ada Lovelace", "ada@engines.test",
    )  # fmt: skip
    assert lead.value == Decimal(9000) and lead.currency == "EUR"
    follow_up = LeadActivity.objects.get(lead=lead)
    assert "Need 40 seats" in follow_up.notes and "+44 20 7946 0000" in follow_up.notes and not follow_up.done


def test_a_submission_links_the_existing_contact_and_company_without_creating_any(capture_form):
    contact = ContactFactory(email="ada@engines.test")
    other = CustomerFactory(domain="analytical.test", name="Analytical")

    known, _ = capture.capture_submit(form=capture_form, submission=submission(email="ADA@engines.test"), origin=SITE)
    by_domain, _ = capture.capture_submit(
        form=capture_form, submission=submission(email="charles@analytical.test", name="Charles"), origin=SITE
    )
    by_name, _ = capture.capture_submit(
        form=capture_form,
        submission=submission(email="someone@gmail.com", name="Someone", company="analytical"),
        origin=SITE,
    )

    assert (known.contact, known.customer) == (contact, contact.customer)
    assert (by_domain.customer, by_domain.contact) == (other, None)
    assert (by_name.customer, by_name.contact) == (other, None)
    from customers.models import Contact, Customer

    assert Customer.objects.count() == 2 and Contact.objects.count() == 1


def test_the_same_submission_id_twice_makes_one_lead(capture_form):
    sent = submission(message="Hello")

    first, created = capture.capture_submit(form=capture_form, submission=sent, origin=SITE)
    again, created_again = capture.capture_submit(form=capture_form, submission=sent, origin=SITE)

    assert created and not created_again and again == first
    assert Lead.objects.count() == 1 and LeadActivity.objects.count() == 1
    assert LeadCaptureSubmission.objects.get().lead == first


def test_a_switched_off_form_takes_no_submission(capture_form):
    capture_form.enabled = False
    with pytest.raises(ValidationError):
        capture.capture_submit(form=capture_form, submission=submission(), origin=SITE)
    assert not Lead.objects.exists()


def test_form_settings_are_checked(pipeline, stages, make_user):
    with pytest.raises(ValidationError) as error:
        capture.capture_form_create(name="Contact", enabled=True, allowed_origins=[])
    assert "allowed_origins" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        capture.capture_form_create(name="Contact", allowed_origins=[SITE], stage=stages["Won"])
    assert "stage" in error.value.message_dict
    form = capture.capture_form_create(
        name=" Contact ", allowed_origins=["HTTPS://WWW.example.org:443/", SITE], shown_fields=["message", "company"]
    )
    assert (form.name, form.allowed_origins, form.shown_fields) == ("Contact", [SITE], ["company", "message"])


def test_rotating_the_key_retires_the_old_one(capture_form):
    old = capture_form.public_key
    capture.capture_form_key_rotate(form=capture_form)
    assert capture_form.public_key != old
    assert capture.capture_form_for_key(old) is None
    assert capture.capture_form_for_key(capture_form.public_key) == capture_form


# --- The public form ----------------------------------------------------------------------------


def test_the_form_is_served_framed_only_by_the_listed_sites_without_cookies(client, capture_form):
    response = client.get(embed_url(capture_form), HTTP_REFERER=f"{SITE}/contact")

    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="capture-form"' in html
    assert "csrfmiddlewaretoken" not in html and not response.cookies
    assert f"frame-ancestors {SITE}" in response["Content-Security-Policy"]
    assert "X-Frame-Options" not in response
    for name in ("name", "email", "company", "phone", "message", "value", "website", "token"):
        assert f'name="{name}"' in html


def test_the_form_shows_only_the_fields_chosen(client, capture_form):
    capture.capture_form_update(form=capture_form, shown_fields=["message"])
    html = client.get(embed_url(capture_form)).content.decode()
    assert 'name="message"' in html and 'name="company"' not in html and 'name="value"' not in html


def test_a_site_not_listed_cannot_show_the_form(client, capture_form):
    response = client.get(embed_url(capture_form), HTTP_REFERER="https://evil.test/page")
    assert response.status_code == 403
    assert "may not be shown on https://evil.test" in response.content.decode()


def test_a_submission_makes_a_lead_and_thanks_the_visitor(client, capture_form):
    response = post(client, capture_form, company="Engines Ltd", message="Call me", value="1200")

    assert response.status_code == 201
    assert capture_form.thank_you in response.content.decode()
    lead = Lead.objects.get()
    assert lead.source == Lead.Source.WEB_FORM and lead.value == Decimal(1200)
    assert LeadCaptureSubmission.objects.get().origin == SITE


def test_a_double_submit_of_one_rendered_form_makes_one_lead(client, capture_form):
    token = form_token(capture_form, submission_id=uuid.uuid4(), origin=SITE)

    first = post(client, capture_form, token=token)
    second = post(client, capture_form, token=token)

    assert (first.status_code, second.status_code) == (201, 200)
    assert Lead.objects.count() == 1


def test_a_post_from_another_origin_is_refused(client, capture_form):
    for origin in ("https://evil.test", SITE, ""):
        response = post(client, capture_form, origin=origin)
        assert response.status_code == 403, origin
        assert "only be sent from the page that shows it" in response.content.decode()
    assert not Lead.objects.exists()


def test_a_site_removed_from_the_list_can_no_longer_send_its_open_forms(client, capture_form):
    capture.capture_form_update(form=capture_form, allowed_origins=["https://new.example.org"])
    response = post(client, capture_form)
    assert response.status_code == 403 and not Lead.objects.exists()


def test_invalid_submissions_get_clear_messages(client, capture_form):
    response = post(client, capture_form, name="", email="not-an-address", value="-5")

    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html and "Enter a valid email address." in html
    assert "greater than or equal to 0" in html
    assert not Lead.objects.exists()


def test_a_forged_or_foreign_token_is_refused(client, capture_form):
    other = LeadCaptureFormFactory(allowed_origins=[SITE])
    for token in ("forged", form_token(other, submission_id=uuid.uuid4(), origin=SITE)):
        response = post(client, capture_form, token=token)
        assert response.status_code == 400 and "reload the page" in response.content.decode()
    assert not Lead.objects.exists()


def test_the_honeypot_thanks_bots_and_makes_nothing(client, capture_form):
    response = post(client, capture_form, website="http://spam.test")
    assert response.status_code == 200 and capture_form.thank_you in response.content.decode()
    assert not Lead.objects.exists()


def test_submissions_are_rate_limited_per_address(client, capture_form, monkeypatch):
    monkeypatch.setattr(views_capture, "LIMIT_PER_ADDRESS", (2, 3600))

    assert [post(client, capture_form).status_code for _ in range(3)] == [201, 201, 429]
    assert post(client, capture_form, environ={"REMOTE_ADDR": "192.0.2.9"}).status_code == 201
    assert Lead.objects.count() == 3


def test_submissions_are_rate_limited_per_form_from_every_address(client, capture_form, monkeypatch):
    monkeypatch.setattr(views_capture, "LIMIT_PER_FORM", (2, 3600))

    statuses = [post(client, capture_form, environ={"REMOTE_ADDR": f"192.0.2.{n}"}).status_code for n in (1, 2, 3)]

    assert statuses == [201, 201, 429]
    other = LeadCaptureFormFactory(allowed_origins=[SITE])
    assert post(client, other).status_code == 201  # another form counts on its own


def test_an_unknown_or_switched_off_key_is_not_found(client, capture_form):
    assert client.get(reverse("leads:capture_embed", args=["lf_nope"])).status_code == 404
    capture.capture_form_update(form=capture_form, enabled=False)
    assert client.get(embed_url(capture_form)).status_code == 404
    assert post(client, capture_form).status_code == 404


def test_a_forms_key_means_nothing_on_another_workspaces_host(capture_form, other_tenant):
    beta = Client(HTTP_HOST="beta.localhost")
    assert beta.get(embed_url(capture_form), HTTP_REFERER=f"{SITE}/").status_code == 404
    token = form_token(capture_form, submission_id=uuid.uuid4(), origin=SITE)
    response = beta.post(
        embed_url(capture_form), {"name": "A", "email": "a@b.test", "token": token}, HTTP_ORIGIN="http://beta.localhost"
    )
    assert response.status_code == 404 and not Lead.objects.exists()


# --- Settings -----------------------------------------------------------------------------------


def test_admins_make_a_form_and_see_its_snippet(client, login, pipeline, stages):
    login("admin")
    response = client.post(
        reverse("leads:capture_form_create"),
        {"name": "Contact us", "enabled": "on", "allowed_origins": f"{SITE}/\n", "shown_fields": ["message"],
         "currency": "usd", "thank_you": "Thanks!", "stage": stages["Prospect"].pk},
    )  # fmt: skip
    form = LeadCaptureForm.objects.get()
    assert response.status_code == 302 and form.allowed_origins == [SITE] and form.shown_fields == ["message"]

    page = client.get(response["Location"]).content.decode()
    assert f"http://alpha.localhost/leads/capture/{form.public_key}/" in page
    assert "&lt;iframe" in page and 'sandbox="allow-forms allow-same-origin"' in page
    assert 'data-copy-target="capture-snippet"' in page


def test_bad_settings_are_shown_on_the_form(client, login, pipeline):
    login("admin")
    response = client.post(
        reverse("leads:capture_form_create"),
        {"name": "Contact", "enabled": "on", "allowed_origins": "not a site", "currency": "USD", "thank_you": "Hi"},
    )
    assert response.status_code == 200 and "is not an origin like" in response.content.decode()
    assert not LeadCaptureForm.objects.exists()


def test_rotating_the_key_from_the_settings_page(client, login, capture_form):
    login("owner")
    old = capture_form.public_key
    response = client.post(reverse("leads:capture_form_rotate", args=[capture_form.pk]))
    capture_form.refresh_from_db()
    assert response.status_code == 302 and capture_form.public_key != old


def test_the_list_shows_forms_in_few_queries(client, login, capture_form, django_assert_max_num_queries):
    login("admin")
    LeadCaptureFormFactory.create_batch(5)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("leads:capture_form_list"))
    assert response.status_code == 200 and capture_form.name in response.content.decode()


@pytest.mark.parametrize("role", ["sales", "agent", "viewer"])
def test_only_owners_and_admins_manage_web_forms(client, login, capture_form, role):
    login(role)
    assert client.get(reverse("leads:capture_form_list")).status_code == 403
    assert client.post(reverse("leads:capture_form_rotate", args=[capture_form.pk])).status_code == 403
