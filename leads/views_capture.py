"""Lead capture over HTTP: the public form a workspace embeds on its site, and the page where it sets forms up.

The embed is an iframe of /leads/capture/<key>/ on the workspace's host rather than a script in the site's page:
the form, its code and what visitors type stay in our origin, out of reach of the site's scripts (and a compromise
of ours runs no code in the site's pages); the browser enforces the origin allow-list through the page's
`frame-ancestors`; the form works without any script at all.

No CSRF token: Django's lives in a cookie, which browsers drop in a third-party iframe, and there is no session to
ride on. In its place: the form's public key (unknown, switched off or another workspace's: 404), the embedding
site's origin (the Referer's origin when it is shown, checked against the allow-list: 403), a POST only from the
form's own page (its Origin must be this host: 403), a signed token naming the form and the submission id (400 when
forged or a day old), a honeypot field, and rate limits per client address and per form in the workspace's cache.

The public route is listed in PUBLIC_ROUTES of config/tests/test_authorization.py.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from core.client_ip import client_ip
from core.forms import add_service_errors
from core.origins import origin_of_url
from core.rate_limit import over_limit

from . import capture
from .capture_forms import CaptureFormSettingsForm, CaptureSubmissionForm, form_token
from .models import LeadCaptureForm

CAPABILITY = "leads.manage"
EMBED_TEMPLATE = "leads/capture_embed.html"
LIST_TEMPLATE = "leads/capture_form_list.html"
EDIT_TEMPLATE = "leads/capture_form_edit.html"
HOUR = 3600
# (submissions, seconds): per client address and form, and per form from everyone (a flood from many addresses).
LIMIT_PER_ADDRESS = (10, HOUR)
LIMIT_PER_FORM = (300, HOUR)


# --- The public form ----------------------------------------------------------------------------


def _own_origin(request: HttpRequest) -> str:
    return origin_of_url(request.build_absolute_uri("/"))


def _rate_limited(request: HttpRequest, form: LeadCaptureForm) -> bool:
    over_address = over_limit(f"leads:capture:{form.pk}:addr:{client_ip(request)}", *LIMIT_PER_ADDRESS)
    return over_limit(f"leads:capture:{form.pk}:all", *LIMIT_PER_FORM) or over_address


def _page(request: HttpRequest, capture_form: LeadCaptureForm, status: int = 200, **context) -> HttpResponse:
    response = render(request, EMBED_TEMPLATE, {"capture_form": capture_form, **context}, status=status)
    # Only the listed sites may frame it; the browser refuses everyone else (the allow-list's real enforcement).
    response._csp_replace = {"frame-ancestors": list(capture_form.allowed_origins) or ["'none'"]}
    response["Cache-Control"] = "no-store"
    return response


def _refused(request: HttpRequest, form: LeadCaptureForm, message: str, status: int) -> HttpResponse:
    return _page(request, form, status=status, refusal=message)


def _new_form(form: LeadCaptureForm, origin: str) -> CaptureSubmissionForm:
    """An empty form with a fresh submission id: sending this rendering twice makes one lead."""
    token = form_token(form, submission_id=uuid.uuid4(), origin=origin)
    return CaptureSubmissionForm(capture_form=form, initial={"token": token})


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def capture_embed(request: HttpRequest, key: str) -> HttpResponse:
    """The form (GET, in the site's iframe) and its submission (POST, from that same page)."""
    form = capture.capture_form_for_key(key)
    if form is None:
        response = HttpResponse("No web form with this key is switched on here.", status=404, content_type="text/plain")
        response["Cache-Control"] = "no-store"
        return response
    own = _own_origin(request)
    if request.method == "GET":
        site = origin_of_url(request.headers.get("Referer", ""))
        if site and site != own and not capture.capture_origin_allowed(form, site):
            return _refused(request, form, f"This form may not be shown on {site}.", 403)
        return _page(request, form, form=_new_form(form, "" if site == own else site))
    return _submit(request, form, own)


def _submit(request: HttpRequest, form: LeadCaptureForm, own: str) -> HttpResponse:
    if origin_of_url(request.headers.get("Origin", "")) != own:
        return _refused(request, form, "This form can only be sent from the page that shows it.", 403)
    if _rate_limited(request, form):
        response = _refused(request, form, "Too many messages from here: try again in a little while.", 429)
        response["Retry-After"] = str(LIMIT_PER_ADDRESS[1])
        return response
    submitted = CaptureSubmissionForm(request.POST, capture_form=form)
    if submitted.is_spam():  # answered as a success, so the bot learns nothing
        return _page(request, form, thanked=True)
    if not submitted.is_valid():
        return _page(request, form, status=400, form=submitted)
    site = submitted.token_data["o"]
    if site and not capture.capture_origin_allowed(form, site):
        return _refused(request, form, f"This form may no longer be sent from {site}.", 403)
    try:
        _, created = capture.capture_submit(form=form, submission=submitted.submission(), origin=site)
    except ValidationError as error:
        add_service_errors(submitted, error)
        return _page(request, form, status=400, form=submitted)
    return _page(request, form, status=201 if created else 200, thanked=True)


# --- Settings -----------------------------------------------------------------------------------


def _form_or_404(capture_form_id: int) -> LeadCaptureForm:
    try:
        return capture.capture_form_get(capture_form_id=capture_form_id)
    except LeadCaptureForm.DoesNotExist:
        raise Http404("No such web form in this workspace.") from None


def _embed_url(request: HttpRequest, form: LeadCaptureForm) -> str:
    return request.build_absolute_uri(reverse("leads:capture_embed", args=[form.public_key]))


@require_GET
@capability_required(CAPABILITY)
def capture_form_list(request: HttpRequest) -> HttpResponse:
    return render(request, LIST_TEMPLATE, {"capture_forms": capture.capture_form_list()})


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def capture_form_create(request: HttpRequest) -> HttpResponse:
    form = CaptureFormSettingsForm(request.POST or None, instance=LeadCaptureForm())
    if request.method == "POST" and form.is_valid():
        try:
            created = capture.capture_form_create(**{name: form.cleaned_data[name] for name in form.Meta.fields})
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Made the web form “{created.name}”: paste its snippet on your site.")
            return redirect("leads:capture_form_update", capture_form_id=created.pk)
    return render(request, EDIT_TEMPLATE, {"form": form, "capture_form": None})


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def capture_form_update(request: HttpRequest, capture_form_id: int) -> HttpResponse:
    capture_form = _form_or_404(capture_form_id)
    form = CaptureFormSettingsForm(request.POST or None, instance=_form_or_404(capture_form_id))
    if request.method == "POST" and form.is_valid():
        try:
            capture.capture_form_update(
                form=capture_form, **{name: form.cleaned_data[name] for name in form.Meta.fields}
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved the web form “{capture_form.name}”.")
            return redirect("leads:capture_form_update", capture_form_id=capture_form.pk)
    context = {"form": form, "capture_form": capture_form, "embed_url": _embed_url(request, capture_form)}
    return render(request, EDIT_TEMPLATE, context)


@require_POST
@capability_required(CAPABILITY)
def capture_form_rotate(request: HttpRequest, capture_form_id: int) -> HttpResponse:
    """A new key: the snippet changes, and the old one on any site stops working now."""
    capture_form = capture.capture_form_key_rotate(form=_form_or_404(capture_form_id))
    messages.success(request, "Made a new key: paste the new snippet on your site; the old one no longer works.")
    return redirect("leads:capture_form_update", capture_form_id=capture_form.pk)
