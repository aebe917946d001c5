"""The HTMX kit every app's views share (core/htmx.py, core/forms.py) and the services' validation helpers
(core/validation.py)."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from core import htmx
from core.forms import add_service_errors
from core.validation import required_text, valid_choice


def request(**headers: str):
    made = RequestFactory().get("/somewhere/", **{f"HTTP_{name.upper()}": value for name, value in headers.items()})
    made.htmx = HtmxDetails(made)
    return made


# --- Fragment detection ---------------------------------------------------------------------------


def test_an_htmx_request_aimed_at_the_target_wants_the_fragment():
    assert htmx.wants_fragment(request(hx_request="true", hx_target="ticket-table"), "ticket-table")


def test_an_htmx_request_aimed_elsewhere_gets_no_fragment():
    assert not htmx.wants_fragment(request(hx_request="true", hx_target="modal-body"), "ticket-table")


def test_a_plain_request_gets_the_page():
    assert not htmx.wants_fragment(request(), "ticket-table")


def test_a_history_restore_gets_the_page_although_htmx_sent_it():
    restore = request(hx_request="true", hx_target="ticket-table", hx_history_restore_request="true")
    assert not htmx.wants_fragment(restore, "ticket-table")


def test_a_request_without_the_htmx_middleware_gets_the_page():
    assert not htmx.wants_fragment(RequestFactory().get("/"), "ticket-table")


# --- Modal forms ------------------------------------------------------------------------------------


@pytest.fixture
def rendered(monkeypatch):
    """What render_modal asked for: the partial (for HTMX) or the whole page (without JavaScript)."""
    calls: list[tuple] = []
    monkeypatch.setattr(htmx, "render_partial", lambda req, tpl, partial, ctx: calls.append(("partial", tpl, partial)))
    monkeypatch.setattr(htmx, "render", lambda req, tpl, ctx: calls.append(("page", tpl, ctx)))
    return calls


def test_a_modal_form_answers_htmx_with_its_modal_body_partial(rendered):
    htmx.render_modal(request(hx_request="true", hx_target="modal-body"), "app/form.html", {"form": None})
    assert rendered == [("partial", "app/form.html", "modal-body")]


def test_a_modal_form_is_a_page_of_its_own_without_javascript(rendered):
    htmx.render_modal(request(), "app/form.html", {"form": None})
    assert rendered == [("page", "app/form.html", {"form": None})]


def test_modal_done_closes_the_modal_without_swapping_anything_into_it():
    response = htmx.modal_done('<tr id="row-1" hx-swap-oob="true"></tr>')
    assert response.status_code == 200
    assert response["HX-Trigger"] == "modal:close"
    # Retargeted to <body> with swap none: no afterSwap on #modal-body re-opens the modal while it closes.
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("body", "none")
    assert response.content.decode() == '<tr id="row-1" hx-swap-oob="true"></tr>'


def test_modal_done_without_updates_has_an_empty_body():
    assert htmx.modal_done().content == b""


# --- Service errors on forms ------------------------------------------------------------------------


class NameForm(forms.Form):
    name = forms.CharField()


def bound() -> NameForm:
    form = NameForm({"name": "Ada"})
    assert form.is_valid()
    return form


def test_a_service_error_on_a_field_the_form_has_lands_on_that_field():
    form = bound()
    add_service_errors(form, ValidationError({"name": "Taken."}))
    assert form.errors == {"name": ["Taken."]}


def test_a_service_error_on_a_field_the_form_lacks_lands_above_the_form():
    form = bound()
    add_service_errors(form, ValidationError({"slug": "Taken."}))
    assert form.non_field_errors() == ["Taken."] and "slug" not in form.errors


def test_a_service_error_without_a_field_lands_above_the_form():
    form = bound()
    add_service_errors(form, ValidationError("The workspace is read-only."))
    assert form.non_field_errors() == ["The workspace is read-only."]


# --- Validation helpers for services ----------------------------------------------------------------


def test_required_text_strips_and_accepts_text_up_to_the_limit():
    assert required_text("  Printer jam  ", field="subject", label="The subject", limit=11) == "Printer jam"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_required_text_refuses_empty_text_on_its_field(value):
    with pytest.raises(ValidationError) as refused:
        required_text(value, field="subject", label="The subject", limit=10)
    assert refused.value.message_dict == {"subject": ["The subject cannot be empty."]}


def test_required_text_refuses_text_over_the_limit_and_says_by_how_much():
    with pytest.raises(ValidationError) as refused:
        required_text("x" * 1001, field="body", label="The message", limit=1000)
    assert refused.value.message_dict == {"body": ["The message is too long (1,001 characters; at most 1,000)."]}


class Colour(models.TextChoices):
    RED = "red"
    BLUE = "blue"


def test_valid_choice_accepts_a_known_value():
    assert valid_choice("blue", Colour, "colour") == "blue"


def test_valid_choice_refuses_an_unknown_value_and_lists_the_valid_ones():
    with pytest.raises(ValidationError) as refused:
        valid_choice("green", Colour, "colour")
    assert refused.value.message_dict == {"colour": ["“green” is not a valid colour; use one of: red, blue."]}
