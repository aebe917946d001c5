"""The public site (localhost): landing, finding your workspace, creating one and watching it being set up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from core.client_ip import client_ip
from core.htmx import render_partial

from .forms import WorkspaceFindForm, WorkspaceSignupForm
from .models import Tenant
from .ratelimit import signup_rate_limit
from .selectors import tenant_get_workspace, workspace_address_status, workspace_slug_suggest
from .services import tenant_provisioning_progress, tenant_signup

SIGNUP_TEMPLATE = "public/signup.html"
PROGRESS_TEMPLATE = "public/signup_progress.html"
# Past this, the progress page says provisioning is slower than usual (normally it takes a few seconds).
SLOW_PROVISIONING = timedelta(seconds=45)


def workspace_host(request: HttpRequest, slug: str) -> str:
    """`acme.localhost:8000`: the workspace's host as this browser reaches the public site."""
    port = request.get_port()
    suffix = "" if port in {"80", "443"} else f":{port}"
    return f"{slug}.{settings.SWITCHBOARD_BASE_DOMAIN}{suffix}"


def workspace_login_url(request: HttpRequest, slug: str) -> str:
    login_path = reverse("account_login", urlconf="config.urls.tenant")
    return f"{request.scheme}://{workspace_host(request, slug)}{login_path}"


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    context = {"find_form": WorkspaceFindForm(), "base_domain": settings.SWITCHBOARD_BASE_DOMAIN}
    return render(request, "public/landing.html", context)


@require_GET
def workspace_signin(request: HttpRequest) -> HttpResponse:
    """ "Sign in to your workspace": type its address, land on its login page."""
    form = WorkspaceFindForm(request.GET if "workspace" in request.GET else None)
    if form.is_valid():
        tenant: Tenant = form.cleaned_data["workspace"]
        if tenant.status == Tenant.Status.PROVISIONING:
            return redirect("tenants:signup_progress", slug=tenant.slug)
        return HttpResponseRedirect(workspace_login_url(request, tenant.slug))
    form.fields["workspace"].widget.attrs["autofocus"] = True  # the only field on this page
    context = {"find_form": form, "base_domain": settings.SWITCHBOARD_BASE_DOMAIN}
    return render(request, "public/signin.html", context)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    limit, client = signup_rate_limit(), client_ip(request)
    limited = limit.exceeded(client)
    if limited:  # not validated, just shown again with what was typed
        form = WorkspaceSignupForm(initial=request.POST.dict())
    else:
        form = WorkspaceSignupForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        tenant = _signup(request, form)
        if tenant is not None:
            limit.hit(client)
            return redirect("tenants:signup_progress", slug=tenant.slug)
    status = 429 if limited and request.method == "POST" else 200
    context = {"form": form, "rate_limited": limited, "base_domain": settings.SWITCHBOARD_BASE_DOMAIN}
    if "slug" not in form.errors:
        context["address"] = workspace_address_status(form["slug"].value() or "")
    return render(request, SIGNUP_TEMPLATE, context, status=status)


def _signup(request: HttpRequest, form: WorkspaceSignupForm) -> Tenant | None:
    data = form.cleaned_data
    try:
        tenant = tenant_signup(
            name=data["name"],
            slug=data["slug"],
            admin_email=data["email"],
            admin_password=data["password"],
            admin_name=data["owner_name"].strip(),
        )
    except ValidationError as error:  # someone took the address between the form check and the insert
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return None
    # Lets this browser, and only this one, see which address the confirmation email went to.
    request.session["signup"] = {"slug": tenant.slug, "email": data["email"], "name": tenant.name}
    return tenant


@require_GET
def signup_address(request: HttpRequest) -> HttpResponse:
    """Live check of the address field; typing the workspace name also suggests an address."""
    name, slug = request.GET.get("name", ""), request.GET.get("slug", "")
    edited = bool(request.GET.get("slug_edited")) and bool(slug.strip())
    suggest = request.htmx.trigger_name == "name" and not edited
    if suggest:
        slug = workspace_slug_suggest(name)
    context = {"address": workspace_address_status(slug), "base_domain": settings.SWITCHBOARD_BASE_DOMAIN}
    html = render_to_string(f"{SIGNUP_TEMPLATE}#signup-address-status", context, request=request)
    if suggest:
        form = WorkspaceSignupForm(initial={"slug": slug})
        context |= {"form": form, "oob": True}
        html += render_to_string(f"{SIGNUP_TEMPLATE}#signup-slug-group", context, request=request)
    return HttpResponse(html)


@require_GET
def signup_progress(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = tenant_get_workspace(slug=slug) or _given_up_signup(request, slug)
    if tenant is None:
        raise Http404("No workspace is being set up at this address.")
    context = _progress_context(request, tenant)
    if request.htmx:
        return render_partial(request, PROGRESS_TEMPLATE, "signup-progress", context)
    return render(request, PROGRESS_TEMPLATE, context)


def _given_up_signup(request: HttpRequest, slug: str) -> Tenant | None:
    """The browser that signed up still learns that set-up failed once the sweep removed the row (unsaved)."""
    mine = request.session.get("signup") or {}
    if mine.get("slug") != slug:
        return None
    return Tenant(name=mine.get("name") or slug, slug=slug, status=Tenant.Status.FAILED, provisioning_step=1)


def _progress_context(request: HttpRequest, tenant: Tenant) -> dict[str, Any]:
    mine = request.session.get("signup") or {}
    return {
        "tenant": tenant,
        "progress": tenant_provisioning_progress(tenant),
        "login_url": workspace_login_url(request, tenant.slug),
        "host": workspace_host(request, tenant.slug),
        "owner_email": mine.get("email") if mine.get("slug") == tenant.slug else None,
        "slow": tenant.status == Tenant.Status.PROVISIONING and timezone.now() - tenant.created > SLOW_PROVISIONING,
    }


@require_GET
def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "public/terms.html")
