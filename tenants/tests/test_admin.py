"""The platform admin on localhost/admin/: the workspace list, suspend/reactivate and the protected platform rows."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_exists

from tenants.models import Tenant

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tenants/tenant/"


@pytest.fixture
def staff(public_schema) -> Client:
    user = get_user_model().objects.create_superuser("root@switchboard.test", "Platform-pass-123")
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(user)
    return browser


def platform_rows() -> list[Tenant]:
    return list(Tenant.objects.filter(type=Tenant.Type.PLATFORM))


def act(staff: Client, action: str, tenants: list[Tenant]):
    data = {"action": action, "_selected_action": [tenant.pk for tenant in tenants]}
    return staff.post(CHANGELIST, data, follow=True)


def test_changelist_lists_workspaces_with_status_and_a_link(staff, tenant):
    response = staff.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha Testing Ltd" in html and "Beta Testing Ltd" in html
    assert f"/admin/tenants/tenant/{tenant.pk}/open/" in html
    assert "Open alpha.localhost" in html


def test_changelist_search_and_filters(staff):
    response = staff.get(CHANGELIST, {"q": "beta"})
    html = response.content.decode()
    assert "Beta Testing Ltd" in html and "Alpha Testing Ltd" not in html
    response = staff.get(CHANGELIST, {"status__exact": "suspended"})
    assert "Alpha Testing Ltd" not in response.content.decode()


def test_open_link_goes_to_the_workspace_login_on_the_admins_port(staff, tenant):
    response = staff.get(f"/admin/tenants/tenant/{tenant.pk}/open/", SERVER_PORT="8000")
    assert response.status_code == 302
    assert response["Location"] == "http://alpha.localhost:8000/accounts/login/"


def test_change_page_shows_schema_read_only_and_domains_inline(staff, tenant):
    response = staff.get(f"/admin/tenants/tenant/{tenant.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "t_alpha" in html
    assert 'name="schema_name"' not in html and 'name="slug"' not in html
    assert 'value="alpha.localhost"' in html  # the Domain inline


def test_suspend_and_reactivate_actions(staff, make_workspace):
    workspace = make_workspace()
    response = act(staff, "suspend", [workspace])
    assert "1 workspace(s) now suspended" in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.status == Tenant.Status.SUSPENDED
    assert Client(HTTP_HOST=f"{workspace.slug}.localhost").get("/").status_code == 403

    act(staff, "reactivate", [workspace])
    workspace.refresh_from_db()
    assert workspace.status == Tenant.Status.ACTIVE


def test_platform_rows_cannot_be_suspended(staff):
    protected = platform_rows()
    assert {tenant.schema_name for tenant in protected} == {"public", settings.TENANT_BASE_SCHEMA}
    response = act(staff, "suspend", protected)
    assert "Left unchanged" in response.content.decode()
    assert all(tenant.status == Tenant.Status.ACTIVE for tenant in platform_rows())


def test_platform_rows_cannot_be_deleted(staff):
    for tenant in platform_rows():
        assert staff.get(f"/admin/tenants/tenant/{tenant.pk}/delete/").status_code == 403
    act(staff, "delete_selected", platform_rows())
    assert len(platform_rows()) == 2
    assert schema_exists(settings.TENANT_BASE_SCHEMA)


def checks_done() -> None:
    """The workspace was created in this test's transaction; in production its insert committed long ago."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_deleting_a_workspace_drops_its_schema(staff, make_workspace):
    workspace = make_workspace()
    checks_done()
    response = staff.post(f"/admin/tenants/tenant/{workspace.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Tenant.objects.filter(pk=workspace.pk).exists()
    assert not schema_exists(workspace.schema_name)


def test_bulk_delete_drops_schemas_too(staff, make_workspace):
    workspace = make_workspace()
    checks_done()
    staff.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [workspace.pk], "post": "yes"})
    assert not schema_exists(workspace.schema_name)


def test_workspaces_are_not_added_as_bare_rows(staff):
    assert staff.get("/admin/tenants/tenant/add/").status_code == 403


def test_workspace_people_cannot_reach_the_platform_admin(client, login):
    login("owner")
    response = client.get(CHANGELIST)
    assert response.status_code in {302, 404}  # the workspace admin has no tenants app
