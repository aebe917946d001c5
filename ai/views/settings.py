"""The workspace AI settings page: policy, provider accounts (with connection tests and budgets), feature routing,
and Microsoft 365 Copilot's delegated sign-in (connect, Microsoft's callback, disconnect).

Sections are partials of ai/settings.html named after their DOM ids (`ai-policy`, `provider-table`,
`feature-routes`; one row is `provider-row` → `provider-row-<id>`). Provider forms are modals as in
customers/views.py: a GET fills #modal-body, an invalid POST re-renders it (200), a valid one closes it and
refreshes the provider table and routing out of band. Without JavaScript every URL is a page or a redirect.
API keys go into the services and never come back: the page shows only the stored hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from core.crypto import DecryptionFailed
from core.htmx import hx_redirect, modal_done, render_modal, render_partial

from .. import budgets, copilot_connection, registry, selectors, services
from ..copilot_connection import CopilotConnection, PendingSignIn, SignInRejected
from ..forms import PolicyForm, ProviderForm
from ..models import ProviderConfig
from ..providers.base import ProviderError
from ..providers.copilot_provider import SignInRefused
from ..selectors import FeatureInfo
from ..services import ConnectionTest

SETTINGS_TEMPLATE = "ai/settings.html"
FORM_TEMPLATE = "ai/provider_form.html"
DELETE_TEMPLATE = "ai/provider_confirm_delete.html"
SIGN_IN_TEMPLATE = "ai/copilot_sign_in.html"
ROUTE_SLOTS = 3
WARN_AT_PERCENT = 80
CAPABILITY = "ai.configure"


# --- Rows the template shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderRow:
    config: ProviderConfig
    spent_usd: Decimal
    percent: int  # of the monthly budget spent, capped at 100; 0 without a budget
    exhausted: bool

    @property
    def warning(self) -> bool:
        return not self.exhausted and self.percent >= WARN_AT_PERCENT

    @property
    def microsoft(self) -> CopilotConnection | None:
        """Copilot's delegated sign-in (who connected it, when, which scopes); None for other providers."""
        return CopilotConnection.of(self.config) if self.config.provider == "copilot" else None

    @property
    def registry_label(self) -> str:
        return dict(registry.provider_choices()).get(self.config.provider, f"{self.config.provider} (not installed)")


@dataclass(frozen=True)
class RouteRow:
    feature: FeatureInfo
    route: tuple[int, ...] | None  # None: no route of its own, the default applies
    slots: tuple[int | None, ...]  # the selects' choices, in order
    chain: tuple[str, ...]  # labels of the providers that serve it now, before local

    @property
    def is_embed(self) -> bool:
        return self.feature.operation == "embed"


def _provider_row(config: ProviderConfig) -> ProviderRow:
    spent = budgets.spent_usd(config.pk)
    budget = config.monthly_budget_usd
    if budget is None:
        return ProviderRow(config, spent, 0, False)
    exhausted = spent >= budget
    percent = 100 if exhausted or not budget else min(100, int(spent * 100 / budget))
    return ProviderRow(config, spent, percent, exhausted)


def _route_row(feature: FeatureInfo, route: tuple[int, ...] | None, configs: list[ProviderConfig]) -> RouteRow:
    by_id = {config.pk: config for config in configs}
    if route is None:
        serving = () if feature.local_first else tuple(configs)
    else:
        serving = tuple(by_id[pk] for pk in route if pk in by_id)
    chain = tuple(config.label for config in serving if config.enabled)
    # The selects start from what serves the feature now, so saving unchanged pins today's behaviour.
    chosen = [config.pk for config in serving if route is not None or config.enabled]
    count = min(len(configs), max(ROUTE_SLOTS, len(chosen) + 1))  # always room for one more, if there is one
    slots = tuple(chosen[index] if index < len(chosen) else None for index in range(count))
    return RouteRow(feature, route, slots, chain)


# --- Section contexts ----------------------------------------------------------------------------


def _policy_context(form: PolicyForm | None = None) -> dict[str, Any]:
    policy = selectors.ai_policy_get()
    return {
        "policy": policy,
        "policy_form": form or PolicyForm.for_policy(policy),
        "policy_history": list(selectors.ai_policy_history()),
    }


def _providers_context(configs: list[ProviderConfig], external_allowed: bool) -> dict[str, Any]:
    return {
        "providers": [_provider_row(config) for config in configs],
        "month_name": timezone.localdate().strftime("%B"),
        "external_allowed": external_allowed,
    }


def _routes_context(configs: list[ProviderConfig], external_allowed: bool) -> dict[str, Any]:
    routes = {route.feature: tuple(route.provider_config_ids) for route in selectors.feature_route_list()}
    rows = [_route_row(feature, routes.get(feature.name), configs) for feature in selectors.routable_features()]
    return {"routes": rows, "route_configs": configs, "external_allowed": external_allowed}


def _lower_sections_context() -> dict[str, Any]:
    """Providers and routing: both change with any provider, and both say when the policy keeps runs local."""
    configs = list(selectors.provider_config_list())
    external_allowed = selectors.ai_policy_get().allow_external_providers
    return _providers_context(configs, external_allowed) | _routes_context(configs, external_allowed)


def _page_context(policy_form: PolicyForm | None = None) -> dict[str, Any]:
    return _policy_context(policy_form) | _lower_sections_context()


def _sections_oob(request: HttpRequest) -> str:
    """The provider table and routing, swapped in out of band."""
    context = _lower_sections_context() | {"oob": True}
    return "".join(
        render_to_string(f"{SETTINGS_TEMPLATE}#{name}", context, request=request)
        for name in ("provider-table", "feature-routes")
    )


def _config_or_404(config_id: int) -> ProviderConfig:
    try:
        return selectors.provider_config_get(config_id=config_id)
    except ProviderConfig.DoesNotExist:
        raise Http404("No such AI provider in this workspace.") from None


def _back_to_settings(anchor: str = "") -> HttpResponse:
    return redirect(reverse("ai:settings") + (f"#{anchor}" if anchor else ""))


# --- Page and policy -----------------------------------------------------------------------------


@require_GET
@capability_required(CAPABILITY)
def ai_settings(request: HttpRequest) -> HttpResponse:
    return render(request, SETTINGS_TEMPLATE, _page_context())


@require_POST
@capability_required(CAPABILITY)
def ai_policy_save(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST, current_ttl=selectors.ai_policy_get().cache_ttl_seconds)
    if form.is_valid():
        try:
            policy = services.ai_policy_update(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            if policy.allow_external_providers:
                messages.success(request, "AI policy saved. External providers may be used.")
            else:
                messages.success(
                    request, "AI policy saved. Only the local provider runs: nothing leaves the workspace."
                )
            if not request.htmx:
                return _back_to_settings("ai-policy")
            form = None
    if not request.htmx:
        return render(request, SETTINGS_TEMPLATE, _page_context(form))
    section = render_to_string(f"{SETTINGS_TEMPLATE}#ai-policy", _policy_context(form), request=request)
    return HttpResponse(section + (_sections_oob(request) if form is None else ""))


@require_POST
@capability_required(CAPABILITY)
def ai_cache_clear(request: HttpRequest) -> HttpResponse:
    services.ai_cache_invalidate()
    messages.success(request, "AI cache cleared: the next requests ask the providers again.")
    if request.htmx:
        return HttpResponse("")  # the toast rides along (the button swaps nothing)
    return _back_to_settings("ai-policy")


# --- Providers -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def provider_create(request: HttpRequest) -> HttpResponse:
    form = ProviderForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            config = services.provider_config_create(api_key=form.key_values()["api_key"], **form.service_values())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Added {config.label}. Test the connection to make sure it works.")
            if request.htmx:
                return modal_done(_sections_oob(request))
            return _back_to_settings(f"provider-row-{config.pk}")
    return render_modal(request, FORM_TEMPLATE, {"form": form})


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def provider_update(request: HttpRequest, config_id: int) -> HttpResponse:
    config = _config_or_404(config_id)
    form = ProviderForm(request.POST if request.method == "POST" else None, config=config)
    if request.method == "POST" and form.is_valid():
        try:
            services.provider_config_update(config=config, **form.key_values(), **form.service_values())
        except ValidationError as error:
            config.refresh_from_db()  # the service set the refused values on it
            form.add_service_errors(error)
        else:
            messages.success(request, f"Saved {config.label}.")
            if request.htmx:
                return modal_done(_sections_oob(request))
            return _back_to_settings(f"provider-row-{config.pk}")
    return render_modal(request, FORM_TEMPLATE, {"form": form, "config": config})


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def provider_delete(request: HttpRequest, config_id: int) -> HttpResponse:
    config = _config_or_404(config_id)
    if request.method == "POST":
        services.provider_config_delete(config=config)
        messages.success(request, f"Deleted {config.label}. Features routed to it use the next provider.")
        if request.htmx:
            return modal_done(_sections_oob(request))
        return _back_to_settings("provider-table")
    return render_modal(request, DELETE_TEMPLATE, {"config": config})


@require_POST
@capability_required(CAPABILITY)
def provider_enabled(request: HttpRequest, config_id: int) -> HttpResponse:
    config = _config_or_404(config_id)
    enabled = request.POST.get("enabled") in {"on", "true", "1"}
    try:
        services.provider_config_update(config=config, enabled=enabled)
    except ValidationError as error:  # settings saved before a rule existed, or a vendor module since removed
        messages.error(request, f"{config.label} cannot be switched: {' '.join(error.messages)} Edit or delete it.")
    else:
        messages.success(request, f"{config.label} is {'on' if enabled else 'off'}.")
    if request.htmx:
        return HttpResponse(_sections_oob(request))
    return _back_to_settings(f"provider-row-{config.pk}")


def _row_response(request: HttpRequest, config: ProviderConfig) -> HttpResponse:
    context = {"row": _provider_row(config), "month_name": timezone.localdate().strftime("%B")}
    return render_partial(request, SETTINGS_TEMPLATE, "provider-row", context)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def provider_test(request: HttpRequest, config_id: int) -> HttpResponse:
    """POST asks the provider to prove the settings work and shows the verdict in the row; GET shows the last one."""
    config = _config_or_404(config_id)
    if request.method == "POST":
        result = services.provider_config_test(config=config)
        if not request.htmx:
            level = messages.SUCCESS if result.ok else messages.ERROR
            messages.add_message(request, level, f"{config.label}: {result.message}")
    if request.htmx:
        return _row_response(request, config)
    return _back_to_settings(f"provider-row-{config.pk}")


@require_POST
@capability_required(CAPABILITY)
def local_provider_test(request: HttpRequest) -> HttpResponse:
    result: ConnectionTest = services.local_provider_test()
    if request.htmx:
        return render_partial(request, SETTINGS_TEMPLATE, "local-provider-row", {"local_test": result})
    level = messages.SUCCESS if result.ok else messages.ERROR
    messages.add_message(request, level, f"Local provider: {result.message}")
    return _back_to_settings("local-provider-row")


# --- Feature routing -----------------------------------------------------------------------------


def _routes_response(request: HttpRequest) -> HttpResponse:
    if not request.htmx:
        return _back_to_settings("feature-routes")
    return render_partial(request, SETTINGS_TEMPLATE, "feature-routes", _lower_sections_context())


def _chosen_ids(request: HttpRequest) -> list[int]:
    try:
        return [int(value) for value in request.POST.getlist("providers") if value.strip()]
    except ValueError:
        raise ValidationError({"provider_config_ids": ["Choose providers from the lists."]}) from None


@require_POST
@capability_required(CAPABILITY)
def feature_route_save(request: HttpRequest) -> HttpResponse:
    feature = request.POST.get("feature", "").strip()
    try:
        ids = _chosen_ids(request)
        services.feature_route_set(feature=feature, provider_config_ids=ids)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if ids:
            messages.success(request, f"Saved the route of {feature}.")
        else:
            messages.success(request, f"{feature} now runs on the local provider only.")
    return _routes_response(request)


@require_POST
@capability_required(CAPABILITY)
def feature_route_reset(request: HttpRequest) -> HttpResponse:
    feature = request.POST.get("feature", "").strip()
    if feature:
        services.feature_route_delete(feature=feature)
        messages.success(request, f"{feature} uses the default route again.")
    else:
        messages.error(request, "Name the feature whose route to reset.")
    return _routes_response(request)


# --- Microsoft 365 Copilot: the admin's delegated sign-in (ai/copilot_connection.py) -------------------------


@require_POST
@capability_required(CAPABILITY)
def copilot_connect(request: HttpRequest, config_id: int) -> HttpResponse:
    """Starts the sign-in: the flow goes into this admin's session, the browser to Microsoft's authorize page.

    The redirect URI is this workspace's own host, so Microsoft sends the answer back to the workspace that asked.
    """
    config = _config_or_404(config_id)
    if config.provider != "copilot":
        messages.error(request, f"{config.label} does not sign in with a Microsoft account: only Copilot does.")
        return _back_to_settings(f"provider-row-{config.pk}")
    redirect_uri = request.build_absolute_uri(reverse("ai:copilot_callback"))
    try:
        pending = copilot_connection.copilot_sign_in_start(config=config, user=request.user, redirect_uri=redirect_uri)
    except (ProviderError, DecryptionFailed) as error:
        messages.error(
            request, f"{config.label}: the Microsoft 365 sign-in could not start. {_sign_in_verdict(config, error)}"
        )
        if request.htmx:
            return _row_response(request, config)
        return _back_to_settings(f"provider-row-{config.pk}")
    request.session[copilot_connection.SESSION_KEY] = pending.as_session()
    if request.htmx:
        return hx_redirect(request, pending.auth_uri)
    return render(request, SIGN_IN_TEMPLATE, {"config": config, "auth_uri": pending.auth_uri})


@require_GET
@capability_required(CAPABILITY)
def copilot_callback(request: HttpRequest) -> HttpResponse:
    """Where Microsoft sends the admin back: finishes the sign-in this workspace, admin and browser started."""
    pending = PendingSignIn.from_session(request.session.get(copilot_connection.SESSION_KEY))
    params = {key: request.GET.get(key, "") for key in request.GET}
    try:
        config = copilot_connection.copilot_sign_in_finish(pending=pending, user=request.user, params=params)
    except SignInRejected as error:
        return _sign_in_refused(request, str(error), error.status)
    except (ProviderError, DecryptionFailed) as error:
        request.session.pop(copilot_connection.SESSION_KEY, None)
        config = selectors.provider_config_list().filter(pk=pending.config_id).first() if pending else None
        verdict = str(error) if isinstance(error, SignInRefused) else _sign_in_verdict(config, error)
        return _sign_in_refused(request, f"Microsoft 365 was not connected. {verdict}", 400)
    request.session.pop(copilot_connection.SESSION_KEY, None)
    account = CopilotConnection.of(config).account or "your Microsoft account"
    messages.success(request, f"Microsoft 365 is connected as {account}: {config.label} now answers as that user.")
    return _back_to_settings(f"provider-row-{config.pk}")


@require_POST
@capability_required(CAPABILITY)
def copilot_disconnect(request: HttpRequest, config_id: int) -> HttpResponse:
    config = _config_or_404(config_id)
    copilot_connection.copilot_disconnect(config=config)
    messages.success(
        request, f"Microsoft 365 is disconnected from {config.label}: Copilot is not used until an admin connects it."
    )
    if request.htmx:
        return _row_response(request, config)
    return _back_to_settings(f"provider-row-{config.pk}")


def _sign_in_verdict(config: ProviderConfig | None, error: Exception) -> str:
    """Our words for a failed sign-in step, as a connection test would say them (never the endpoint's)."""
    if not isinstance(error, ProviderError):
        return str(error)
    timeout = config.timeout_seconds if config else 30.0
    return services.connection_test_verdict(error, model="Microsoft 365 Copilot", timeout_seconds=timeout)


def _sign_in_refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, SETTINGS_TEMPLATE, _page_context() | {"sign_in_error": message}, status=status)
