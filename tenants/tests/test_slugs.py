"""Workspace addresses: pattern, reserved list and taken names, through the form, the service and the suggester."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tenants.forms import WorkspaceFindForm, WorkspaceSignupForm, slug_from_address
from tenants.models import Tenant
from tenants.selectors import workspace_address_status, workspace_slug_suggest
from tenants.services import tenant_create, tenant_validate_new
from tenants.validators import slug_skeleton

pytestmark = pytest.mark.django_db

PATTERN_MESSAGE = "Use 1–40 lowercase letters, digits or hyphens, starting and ending with a letter or digit."
BAD_PATTERNS = ["-acme", "acme-", "ac_me", "acme corp", "acmé", "a.b", "x" * 41]
RESERVED = ["www", "admin", "api", "public", "static", "media", "partners"]


def signup_data(**overrides) -> dict:
    data = {
        "name": "Initech",
        "slug": "initech-test",
        "owner_name": "Peter Gibbons",
        "email": "peter@initech.test",
        "password": "Tps-reports-2024!",
        "terms": "on",
    }
    return data | overrides


@pytest.mark.parametrize("slug", BAD_PATTERNS)
def test_signup_form_rejects_slugs_outside_the_pattern(slug):
    form = WorkspaceSignupForm(data=signup_data(slug=slug))
    assert not form.is_valid()
    message = form.errors["slug"][0]
    assert message == PATTERN_MESSAGE or "at most 40 characters" in message


def test_signup_form_lowercases_the_address():
    form = WorkspaceSignupForm(data=signup_data(slug="  Initech-Test "))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["slug"] == "initech-test"


@pytest.mark.parametrize("slug", RESERVED)
def test_signup_form_refuses_reserved_addresses_with_a_clear_error(slug):
    form = WorkspaceSignupForm(data=signup_data(slug=slug))
    assert not form.is_valid()
    assert form.errors["slug"] == [f"“{slug}” is reserved. Please choose another address."]


def test_signup_form_refuses_a_taken_address(tenant):
    form = WorkspaceSignupForm(data=signup_data(slug=tenant.slug))
    assert not form.is_valid()
    assert form.errors["slug"] == ["“alpha” is already taken. Please choose another address."]


def test_signup_form_accepts_a_free_address():
    form = WorkspaceSignupForm(data=signup_data())
    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "This password is too short. It must contain at least 10 characters."),
        ("password123", "This password is too common."),
        ("4815162342108", "This password is entirely numeric."),
        ("peter@initech.test", "The password is too similar to the email."),
    ],
)
def test_signup_form_applies_the_password_validators(password, message):
    form = WorkspaceSignupForm(data=signup_data(password=password))
    assert not form.is_valid()
    assert message in form.errors["password"]


def test_signup_form_requires_every_field_with_its_own_message():
    form = WorkspaceSignupForm(data={})
    assert not form.is_valid()
    assert form.errors["name"] == ["Give your workspace a name."]
    assert form.errors["slug"] == ["Choose an address for your workspace."]
    assert form.errors["owner_name"] == ["Tell us your name so your teammates recognise you."]
    assert form.errors["email"] == ["Enter your email address."]
    assert form.errors["password"] == ["Choose a password."]
    assert form.errors["terms"] == ["Please accept the terms of service to create a workspace."]


def test_signup_form_marks_invalid_fields_for_bootstrap():
    form = WorkspaceSignupForm(data=signup_data(slug="www"))
    form.is_valid()
    assert "is-invalid" in str(form["slug"])
    assert "is-invalid" not in str(form["name"])
    assert "autofocus" in str(form["slug"]) and "autofocus" not in str(form["name"])


@pytest.mark.parametrize("slug", [*BAD_PATTERNS, *RESERVED])
def test_service_refuses_the_same_slugs(slug):
    with pytest.raises(ValidationError) as caught:
        tenant_validate_new(name="Initech", slug=slug)
    assert "slug" in caught.value.message_dict


def test_service_refuses_a_taken_slug_and_an_empty_name(tenant):
    with pytest.raises(ValidationError) as caught:
        tenant_validate_new(name="  ", slug=tenant.slug)
    assert caught.value.message_dict == {
        "name": ["Give your workspace a name."],
        "slug": ["“alpha” is already taken. Please choose another address."],
    }


def test_tenant_create_refuses_a_reserved_slug_without_creating_anything(public_schema):
    from tenants.models import Tenant

    with pytest.raises(ValidationError):
        tenant_create(name="Admin", slug="admin", admin_email="a@b.test", admin_password="x")
    assert not Tenant.objects.filter(slug="admin").exists()


@pytest.mark.parametrize(
    ("slug", "state"),
    [("", "empty"), ("Bad_Slug!", "invalid"), ("www", "reserved"), ("alpha", "taken"), ("initech-test", "free")],
)
def test_address_status_names_each_state(slug, state):
    assert workspace_address_status(slug).state == state


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("Initech Corp.", "initech-corp"),
        ("  Crème  Brûlée  Ltd ", "creme-brulee-ltd"),
        ("my_company", "my-company"),
        ("Alpha", "alpha-2"),  # "alpha" is taken by the test workspace
        ("Admin", "admin-2"),  # reserved
        ("!!!", ""),
        ("A" * 60, "a" * 40),
    ],
)
def test_slug_suggestion_is_valid_and_free(name, suggestion):
    assert workspace_slug_suggest(name) == suggestion


@pytest.mark.parametrize(
    "address",
    [
        "alpha",
        "Alpha",
        " alpha.localhost ",
        "http://alpha.localhost:8000/customers/",
        "https://alpha.localhost",
        "alpha.localhost:8000",
    ],
)
def test_sign_in_box_understands_every_way_of_typing_an_address(address, tenant):
    assert slug_from_address(address) == "alpha"
    form = WorkspaceFindForm(data={"workspace": address})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["workspace"] == tenant


def test_sign_in_box_says_when_a_workspace_does_not_exist():
    form = WorkspaceFindForm(data={"workspace": "no-such-place"})
    assert not form.is_valid()
    assert form.errors["workspace"] == [
        "We couldn’t find a workspace at no-such-place.localhost. Check the spelling, or ask a teammate for the link."
    ]


def test_sign_in_box_never_finds_the_template_or_public_site():
    for address in ("workspace-template", "public-site"):
        assert not WorkspaceFindForm(data={"workspace": address}).is_valid()


# --- Internal names, IDNA labels and look-alikes ---------------------------------------------------

INTERNAL = ["tenant-template", "workspace-template", "template", "public-site", "public", "static", "media", "ws"]


@pytest.mark.parametrize("slug", INTERNAL)
def test_slugs_that_mirror_internal_names_are_reserved(slug):
    with pytest.raises(ValidationError) as caught:
        tenant_validate_new(name="Initech", slug=slug)
    assert caught.value.message_dict["slug"] == [f"“{slug}” is reserved. Please choose another address."]
    assert workspace_address_status(slug).state == "reserved"


def test_a_renamed_template_schema_is_reserved_too(settings):
    settings.TENANT_BASE_SCHEMA = "base_clone_source"

    assert workspace_address_status("base-clone-source").state == "reserved"


@pytest.mark.parametrize("slug", ["xn--pple-43d", "xn--80ak6aa92e", "ab--cd", "my--team"])
def test_punycode_and_other_idna_reserved_labels_are_refused(slug):
    status = workspace_address_status(slug)

    assert status.state == "reserved"
    assert "reserved for internationalised names" in status.message
    assert not WorkspaceSignupForm(data=signup_data(slug=slug)).is_valid()


@pytest.mark.parametrize("slug", ["a--b", "abc--d", "a-b-c"])
def test_double_hyphens_elsewhere_are_fine(slug):
    assert workspace_address_status(slug).state == "free"


@pytest.mark.parametrize(
    ("slug", "skeleton"),
    [("acrne", "acme"), ("g1obex", "globex"), ("g0ogle", "google"), ("vvidget", "widget"), ("alpha", "alpha")],
)
def test_slug_skeleton_spells_look_alikes_one_way(slug, skeleton):
    assert slug_skeleton(slug) == skeleton


@pytest.fixture
def acme(public_schema):
    """A workspace row named acme (no schema needed to hold an address); rolled back with the test."""
    return Tenant.objects.create(name="Acme", slug="acme", schema_name="t_acme", status=Tenant.Status.ACTIVE)


@pytest.mark.parametrize("slug", ["acrne", "a1pha", "acm3", "aome"])
def test_look_alikes_of_existing_workspaces_are_refused_everywhere(acme, slug):
    lookalike = slug in {"acrne", "a1pha"}
    status = workspace_address_status(slug)

    assert (status.state == "lookalike") is lookalike
    if lookalike:
        original = "acme" if slug == "acrne" else "alpha"
        assert status.message == (
            f"“{slug}” is too easily mistaken for the existing address “{original}”. Please choose another."
        )
        with pytest.raises(ValidationError) as caught:
            tenant_validate_new(name="Initech", slug=slug)
        assert caught.value.message_dict["slug"] == [status.message]
        assert WorkspaceSignupForm(data=signup_data(slug=slug)).errors["slug"] == [status.message]
    else:
        assert status.state == "free"
