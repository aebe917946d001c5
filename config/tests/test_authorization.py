"""Negative authorization for every workspace URL: anonymous people and roles without the capability are refused.

Routes are enumerated (config/tests/walk.py): a new view must either declare its capability
(`accounts.permissions.capability_required` / DRF `HasCapability`) or be listed as public here.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.permissions import IsWorkspaceMember
from accounts.roles import role_can
from config.tests.walk import TENANT_URLCONF, Route, rolled_back, tenant_routes

pytestmark = pytest.mark.django_db

# Reachable signed out on purpose: signing in, recovering access, accepting an invitation, health, the site icon.
PUBLIC_ROUTES = {
    "account_login",
    "account_signup",  # answers "sign-up is closed" (people join by invitation)
    "account_logout",
    "account_inactive",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_confirm_email",
    "account_email_verification_sent",
    "account_confirm_login_code",
    "mfa_authenticate",  # the second step of a login in progress
    "accounts:invitation_accept",
    "healthz",
    "favicon",
    "api-root",  # the API's index: links to its docs and schema
    "workspace_admin:login",  # redirects to the real login page
    "workspace_admin:logout",
    "workspace_admin:jsi18n",
    # The workspace's public help center (helpdesk/views/help_center.py): articles, the request form, the
    # request status page and the satisfaction survey (both behind a secret link), for people without an account.
    "help_center:home",
    "help_center:category",
    "help_center:article",
    "help_center:article_vote",
    "help_center:request_new",
    "help_center:request_status",
    "help_center:survey",
    # Twilio's webhooks (inbox/views/sms.py): no session, each request verified by its X-Twilio-Signature instead.
    "sms:inbound",
    "sms:status",
    # The chat widget's script and JSON endpoints (inbox/views/chat.py), called from customers' sites: each needs the
    # widget's public key and one of the origins the workspace listed, and a conversation its visitor's token.
    "chat:widget_script",
    "chat:widget_config",
    "chat:session_start",
    "chat:articles_suggest",
    "chat:deflection_record",
    "chat:offline_message",
    # A workspace's web lead form (leads/views_capture.py), framed by its own site: needs the form's public key, and
    # a page from one of the sites the workspace listed.
    "leads:capture_embed",
    # Its request-form suggestions and "this solved my problem", and "My requests": signing in by an emailed
    # one-time link and out (the list itself redirects to sign in without a help-center session).
    "help_center:request_suggestions",
    "help_center:request_solved",
    "help_center:sign_in",
    "help_center:sign_in_open",
    "help_center:sign_out",
    "help_center:my_requests",
    # The customer's quote page and its accept/decline (quotes/views_public.py): opened by a signed, expiring token
    # bound to the workspace and the revision sent (quotes/public.py).
    "quotes_public:quote_public",
    "quotes_public:accept",
    "quotes_public:decline",
    # The workspace's logo those pages show (quotes/views_public.py quote_logo): public by nature, read only from
    # the workspace's own storage, the file its quote settings name.
    "quotes_public:logo",
    # Mail providers forwarding raw messages (inbox/views/mail_webhook.py): signed with the mailbox's secret.
    "inbox:inbound_webhook",
}

ROUTES = [route for route in tenant_routes() if route.name]
PROTECTED = [route for route in ROUTES if route.name not in PUBLIC_ROUTES]


def _url(route: Route) -> str:
    kwargs = {name: ("x" if name in {"key", "token", "uidb36"} else 1) for name in route.kwargs}
    if route.is_admin and "app_label" in kwargs:
        kwargs["app_label"] = "customers"
    if "kind" in kwargs:
        kwargs["kind"] = "customers"
    return reverse(route.name, kwargs=kwargs, urlconf=TENANT_URLCONF)


def _capability(route: Route) -> str | None:
    return getattr(route.callback, "required_capability", None)


def _is_api(route: Route) -> bool:
    return route.view_class is not None and hasattr(route.view_class, "permission_classes")


# Routes are checked in subtests of one test (per role below), each in its own savepoint: a login and a test
# transaction per route and role cost more than the requests themselves.


def test_signed_out_visitors_are_sent_to_login(client, subtests):
    for route in PROTECTED:
        with subtests.test(route=route.name), rolled_back():
            url = _url(route)
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                if _is_api(route):
                    assert response.status_code in {401, 403}, f"{method.upper()} {url}: {response.status_code}"
                elif response.status_code != 405:
                    assert response.status_code == 302, f"{method.upper()} {url}: {response.status_code}"
                    assert "login" in response["Location"], f"{method.upper()} {url} → {response['Location']}"


@pytest.mark.parametrize("route", PROTECTED, ids=lambda route: route.name)
def test_every_workspace_view_declares_who_may_use_it(route):
    if route.is_admin or route.name.startswith(("account_", "mfa_")):
        return  # the admin site and allauth guard themselves; the signed-out test above proves it
    if _is_api(route):
        permissions = route.view_class.permission_classes
        assert any(issubclass(permission, IsWorkspaceMember) for permission in permissions), route.name
        return
    assert _capability(route), f"{route.name} has no @capability_required"


CAPABILITY_ROUTES = [route for route in PROTECTED if _capability(route)]


@pytest.mark.parametrize("role", [choice.value for choice in Role])
def test_roles_without_the_capability_are_refused(role, client, login, subtests):
    login(role)
    for route in CAPABILITY_ROUTES:
        with subtests.test(route=route.name), rolled_back():
            url = _url(route)
            allowed = role_can(role, _capability(route))
            for method in ("get", "post"):
                status = getattr(client, method)(url).status_code
                if status == 405:
                    continue
                if allowed:
                    assert status != 403, f"{role} refused {method.upper()} {url}"
                else:
                    assert status == 403, f"{role} got {status} for {method.upper()} {url}"


API_ROUTES = [route for route in PROTECTED if _is_api(route) and route.name.startswith("customers_api:")]


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda route: route.name)
@pytest.mark.parametrize("role", [choice.value for choice in Role])
def test_api_writes_need_the_write_capability(route, role, client, login):
    login(role)
    url = _url(route)
    view = route.view_class
    read = client.get(url).status_code
    assert (read == 403) == (not role_can(role, view.read_capability)), f"{role} GET {url}: {read}"
    write = client.post(url, {}, content_type="application/json").status_code
    if write != 405:
        assert (write == 403) == (not role_can(role, view.write_capability)), f"{role} POST {url}: {write}"
