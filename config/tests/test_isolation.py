"""Tenant isolation: two workspaces with canary data, every workspace model and every workspace URL.

Workspace "alpha" must never see "beta": not through the ORM, an HTML page, the API, the cache or a
websocket group. Models and URLs are enumerated (config/tests/walk.py), so later apps are covered
without editing this file.
"""

from __future__ import annotations

import random
import uuid

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.db.models import CharField, Max
from django.urls import reverse
from django_tenants.utils import tenant_context

from config.tests.canaries import CANARY, build_canary, canary_text
from config.tests.walk import TENANT_URLCONF, Route, rolled_back, tenant_models, tenant_routes
from core.realtime import user_group, workspace_group

# URL arguments that name a workspace object, and the model they name.
URL_KWARG_MODELS = {
    "customer_id": "customers.Customer",
    "contact_id": "customers.Contact",
    "user_id": "accounts.User",
    "invitation_id": "accounts.Invitation",
    "ticket_id": "helpdesk.Ticket",
    "mailbox_id": "inbox.Mailbox",
    "view_id": "helpdesk.SavedView",
    "attachment_id": "helpdesk.Attachment",
    "article_id": "helpdesk.Article",
    "article_category_id": "helpdesk.ArticleCategory",
    "policy_id": "helpdesk.SLAPolicy",
    "team_id": "helpdesk.Team",
    "skill_id": "helpdesk.Skill",
    "calendar_id": "helpdesk.BusinessCalendar",
    "category_id": "helpdesk.Category",
    "run_id": "ai.AIRun",
    "config_id": "ai.ProviderConfig",
    "version_id": "ai.ModelVersion",
    "sms_number_id": "inbox.SmsNumber",
    "inbound_id": "inbox.InboundEmail",
    "message_id": "helpdesk.TicketMessage",
    "webhook_id": "inbox.WebhookSubscription",
    "delivery_id": "inbox.WebhookDelivery",
    "note_id": "customers.Note",
    "task_id": "customers.Task",
    "lead_id": "leads.Lead",
    "pipeline_id": "leads.Pipeline",
    "stage_id": "leads.Stage",
    "activity_id": "leads.LeadActivity",
    "capture_form_id": "leads.LeadCaptureForm",
    "lead_view_id": "leads.LeadSavedView",
    "quote_id": "quotes.Quote",
    "dashboard_id": "insights.Dashboard",
    "dashboard_slug": "insights.Dashboard",  # a custom dashboard's id (or a preset's name, the same everywhere)
    "widget_id": "insights.DashboardWidget",
    "line_id": "quotes.QuoteLine",
    "product_id": "quotes.Product",
    "revision_id": "quotes.QuoteRevision",
    "schedule_id": "insights.ReportSchedule",
    "macro_id": "helpdesk.Macro",
    "rule_id": "automation.Rule",
    "rule_version_id": "automation.RuleVersion",
}
# Arguments that are secrets or paths, not object ids: their own tests cover them.
NON_OBJECT_KWARGS = {"key", "uidb36", "token", "url", "content_type_id", "app_label", "format", "feature", "path"}
# Help-center slugs (public pages): helpdesk/tests/test_help_center.py checks them across workspaces.
NON_OBJECT_KWARGS |= {"article_slug", "category_slug"}
# A widget's place in a dashboard's layout (the dashboard, its object, is the other kwarg).
NON_OBJECT_KWARGS |= {"index"}
# A notification template's event type and channel: names registered by code, the same in every workspace
# (notifications/tests/test_isolation.py shows one workspace's template is not another's).
NON_OBJECT_KWARGS |= {"event", "channel"}
# One row per workspace, always pk 1 (e.g. the helpdesk settings): "beta's object" has alpha's pk by design, so
# their pages must show alpha's own row, never beta's.
SINGLETON_MODELS = {"helpdesk.HelpdeskSettings", "quotes.QuoteSettings"}
# Django's and allauth's own tables: no page of ours lists them.
CANARY_FREE_APPS = {
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "allauth.account",
    "allauth.mfa",
    "rest_framework.authtoken",
}
# GET would act rather than show (logout), or shows no workspace data and answers 503 without a worker
# (healthz): their own tests cover them.
SKIPPED_ROUTE_NAMES = {"account_logout", "healthz"}

pytestmark = pytest.mark.django_db

MODELS = tenant_models()
ROUTES = list(tenant_routes())


def test_the_suite_sees_every_app():
    labels = {model._meta.label for model in MODELS}
    assert {"customers.Customer", "customers.Contact", "accounts.User"} <= labels
    assert any(route.name.startswith("customers:") for route in ROUTES)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_every_workspace_table_exists_in_the_workspace_schema(model, tenant):
    """A table missing from a workspace schema would silently fall through to `public` on the search_path."""
    tables = set(connection.introspection.table_names())
    expected = {model._meta.db_table} | {
        field.remote_field.through._meta.db_table for field in model._meta.local_many_to_many
    }
    assert expected <= tables, f"{model._meta.label} has no table in {connection.schema_name}"


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_rows_written_in_one_workspace_are_invisible_in_another(model, tenant, other_tenant):
    alpha_before = model.objects.count()
    with tenant_context(other_tenant):
        beta_before = model.objects.count()
        canary = build_canary(model)
        assert model.objects.count() == beta_before + 1
    assert connection.schema_name == tenant.schema_name
    assert model.objects.count() == alpha_before
    if not model.objects.filter(pk=canary.pk).exists():
        return
    # Same primary key by coincidence: it must be alpha's own row, not beta's canary.
    assert CANARY not in str(model.objects.filter(pk=canary.pk).values().first())


# --- URLs ---------------------------------------------------------------------------------------


def _object_routes() -> list[Route]:
    return [route for route in ROUTES if route.name and route.kwargs and not set(route.kwargs) & NON_OBJECT_KWARGS]


def _plain_routes() -> list[Route]:
    return [route for route in ROUTES if route.name and not route.kwargs and route.name not in SKIPPED_ROUTE_NAMES]


def _model_for(route: Route, kwarg: str):
    if kwarg in URL_KWARG_MODELS:
        return apps.get_model(URL_KWARG_MODELS[kwarg])
    if route.is_admin and kwarg in {"object_id", "id"}:
        _, app_label, model_name = route.route.split("/")[:3]  # "admin/<app_label>/<model>/<id>/…"
        return apps.get_model(app_label, model_name)
    view_class = route.view_class
    serializer = getattr(view_class, "serializer_class", None)
    if kwarg == "pk" and serializer is not None:
        return serializer.Meta.model
    queryset = getattr(view_class, "queryset", None)
    if kwarg == "pk" and queryset is not None:
        return queryset.model
    raise AssertionError(
        f"URL {route.name} ({route.route}) takes `{kwarg}`: add it to URL_KWARG_MODELS in {__file__} "
        f"(or to NON_OBJECT_KWARGS if it is not an object id)."
    )


def _unused_pk(model) -> int:
    """A primary key that exists in neither workspace, so a hit could only come from a leak."""
    highest = model.objects.aggregate(top=Max("pk"))["top"] or 0
    return highest + 1_000_000 + random.randint(0, 1_000_000)


def _every_text_field_marked(model) -> dict:
    """A singleton has no name or title: mark every free-text field, so a leak of the row shows."""
    return {
        field.name: canary_text()
        for field in model._meta.concrete_fields
        if isinstance(field, CharField) and not field.choices and (field.max_length or 0) >= len(canary_text())
    }


def _kwargs_for(route: Route, tenant, other_tenant) -> tuple[dict, dict]:
    """(alpha's own objects, beta's canaries) for every argument of the route."""
    own, foreign = {}, {}
    for kwarg in route.kwargs:
        model = _model_for(route, kwarg)
        if model._meta.label in SINGLETON_MODELS:
            own[kwarg] = model.objects.get_or_create(pk=1)[0].pk
            with tenant_context(other_tenant):
                foreign[kwarg] = build_canary(model, **_every_text_field_marked(model)).pk
            continue
        own[kwarg] = build_canary(model).pk
        pk = _unused_pk(model)
        with tenant_context(other_tenant):
            foreign[kwarg] = build_canary(model, id=max(pk, _unused_pk(model))).pk
    return own, foreign


@pytest.fixture
def owner_client(client, login):
    login("owner")
    return client


@pytest.mark.parametrize("route", _object_routes(), ids=lambda route: route.name)
def test_another_workspaces_object_is_not_found(route, owner_client, tenant, other_tenant):
    own, foreign = _kwargs_for(route, tenant, other_tenant)
    own_url = reverse(route.name, kwargs=own, urlconf=TENANT_URLCONF)
    foreign_url = reverse(route.name, kwargs=foreign, urlconf=TENANT_URLCONF)
    method = "get"
    control = owner_client.get(own_url)
    if control.status_code == 405:
        method = "post"
        control = getattr(owner_client, method)(own_url)
    # The control shows the URL works for the workspace's own object, so a 404 below means isolation.
    assert control.status_code < 400, f"{route.name}: own object answered {control.status_code}"
    response = getattr(owner_client, method)(foreign_url)
    if set(own.values()) == set(foreign.values()):  # singletons only: same pk in both schemas
        assert CANARY not in response.content.decode(errors="replace"), f"{route.name} shows beta's row"
        return
    if route.is_admin:
        # The admin answers a missing object with a redirect to its index and a message.
        assert response.status_code in {302, 404}, f"{route.name} answered {response.status_code}"
    else:
        assert response.status_code == 404, f"{route.name} answered {response.status_code} for beta's object"
    assert CANARY not in response.content.decode(errors="replace")


def test_no_page_or_endpoint_shows_another_workspaces_data(owner_client, other_tenant, subtests):
    """Every page and endpoint without arguments, read by alpha's owner while beta has a canary row in every
    table. The canaries are made once (a row in each of ~80 tables is most of the cost), each route reads them in a
    subtest inside its own savepoint, so a route that fails cannot spoil the next one's transaction."""
    with tenant_context(other_tenant):
        for model in MODELS:
            if model._meta.app_config.name not in CANARY_FREE_APPS:
                build_canary(
                    model, **(_every_text_field_marked(model) if model._meta.label in SINGLETON_MODELS else {})
                )
    for route in _plain_routes():
        with subtests.test(route=route.name), rolled_back():
            url = reverse(route.name, urlconf=TENANT_URLCONF)
            response = owner_client.get(url, HTTP_ACCEPT="text/html,application/json")
            assert response.status_code < 500, f"{route.name} failed with {response.status_code}"
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert CANARY.encode() not in body, f"{route.name} shows beta's data"


# --- Signed links: anonymous pages opened by a token ---------------------------------------------

# URL namespaces whose `token` is a link signed for one workspace, and how to make a live one in the current schema.
# Help-center links are covered in helpdesk/tests/test_help_center.py.
SIGNED_LINKS = {"quotes_public": lambda number: _quote_token(number)}


def _quote_token(number: int) -> str:
    from quotes.public import quote_token_make
    from quotes.tests.factories import quote_sent

    return quote_token_make(quote=quote_sent(id=number, number=number, title=canary_text()))


def _signed_link_routes() -> list[Route]:
    """The routes of those namespaces that take a token (the quote pages' logo takes none: a plain route above)."""
    return [
        route for route in ROUTES if route.name and route.name.split(":")[0] in SIGNED_LINKS and "token" in route.kwargs
    ]


def test_the_signed_link_pages_are_found():
    assert {route.name for route in _signed_link_routes()} >= {"quotes_public:quote_public"}


@pytest.mark.parametrize("route", _signed_link_routes(), ids=lambda route: route.name)
def test_a_link_signed_by_another_workspace_is_refused_here(route, client, other_tenant):
    """Both workspaces have the same quote id and number: beta's link, opened on alpha's host, must not open it."""
    make = SIGNED_LINKS[route.name.split(":")[0]]
    number = 8_000_000 + random.randint(0, 99_999)
    with tenant_context(other_tenant):
        foreign = make(number)
    own = make(number)
    method = "get" if route.name.endswith("quote_public") else "post"
    control = getattr(client, method)(reverse(route.name, kwargs={"token": own}, urlconf=TENANT_URLCONF))
    assert control.status_code not in {404, 410} and control.status_code < 500, f"{route.name}: {control.status_code}"
    response = getattr(client, method)(reverse(route.name, kwargs={"token": foreign}, urlconf=TENANT_URLCONF))
    assert response.status_code == 404, f"{route.name} answered {response.status_code} for beta's link"
    assert CANARY not in response.content.decode(errors="replace")


# --- Cache, websocket groups, sessions ----------------------------------------------------------


def test_cache_entries_are_per_workspace(tenant, other_tenant):
    key = f"isolation-probe-{uuid.uuid4().hex}"
    cache.set(key, "alpha-value")
    with tenant_context(other_tenant):
        assert cache.get(key) is None
        cache.set(key, "beta-value")
    assert cache.get(key) == "alpha-value"
    connection.set_schema_to_public()
    assert cache.get(key) is None
    with tenant_context(other_tenant):
        cache.delete(key)
    connection.set_tenant(tenant)
    cache.delete(key)


def test_websocket_groups_are_prefixed_with_the_workspace_schema(tenant, other_tenant, make_user):
    user = make_user("agent")
    alpha_groups = {workspace_group(), user_group(user.pk)}
    with tenant_context(other_tenant):
        beta_groups = {workspace_group(), user_group(user.pk)}
    assert all(group.startswith("t_alpha.") for group in alpha_groups)
    assert all(group.startswith("t_beta.") for group in beta_groups)
    assert not alpha_groups & beta_groups


def test_a_session_from_one_workspace_is_anonymous_on_another(client, login, other_tenant):
    login("owner")
    assert client.get("/customers/").status_code == 200
    session_cookie = client.cookies["sessionid"].value
    from django.test import Client

    beta_browser = Client(HTTP_HOST="beta.localhost")
    beta_browser.cookies["sessionid"] = session_cookie
    response = beta_browser.get("/customers/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
