"""Provisioning by cloning the template, its failure path, the progress it reports and `manage.py tenant_create`."""

from __future__ import annotations

from io import StringIO
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists, tenant_context

from tenants.models import Domain, Tenant
from tenants.services import (
    WorkspaceOwner,
    tenant_provision,
    tenant_provisioning_progress,
    tenant_reserve,
)
from tenants.tests.conftest import OWNER_PASSWORD, unique_slug

pytestmark = pytest.mark.django_db


def schema_tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def applied_migrations(schema: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations ORDER BY app, name')
        return cursor.fetchall()


def test_new_workspace_is_a_clone_of_the_template_with_its_owner(make_workspace):
    workspace = make_workspace(name="Clone Ltd")
    connection.set_schema_to_public()
    template_tables = schema_tables(settings.TENANT_BASE_SCHEMA)
    assert {"accounts_user", "customers_customer", "django_migrations", "django_content_type"} <= template_tables
    assert schema_tables(workspace.schema_name) == template_tables
    assert applied_migrations(workspace.schema_name) == applied_migrations(settings.TENANT_BASE_SCHEMA)
    # Public-only apps never reach a workspace schema.
    assert "tenants_tenant" not in schema_tables(workspace.schema_name)

    workspace.refresh_from_db()
    assert (workspace.status, workspace.provisioning_step) == (Tenant.Status.ACTIVE, 4)
    assert list(workspace.domains.values_list("domain", flat=True)) == [f"{workspace.slug}.localhost"]
    with tenant_context(workspace):
        owner = get_user_model().objects.get()
        assert owner.email == f"owner@{workspace.slug}.test"
        assert owner.role == "owner" and owner.is_staff
        assert owner.check_password(OWNER_PASSWORD)


def test_template_rows_are_not_shared_with_new_workspaces(make_workspace):
    first, second = make_workspace(), make_workspace()
    for workspace in (first, second):
        with tenant_context(workspace):
            assert get_user_model().objects.count() == 1


def test_failed_provisioning_is_recorded_and_readable(throwaway_slugs, public_schema):
    slug = unique_slug()
    throwaway_slugs.append(slug)
    tenant = tenant_reserve(name="Doomed Ltd", slug=slug)
    owner = WorkspaceOwner(email="owner@doomed.test", password_hash="!")
    with (
        mock.patch("accounts.facade.user_create_owner", side_effect=RuntimeError("mail server on fire")),
        pytest.raises(RuntimeError),
    ):
        tenant_provision(tenant=tenant, owner=owner)
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.FAILED
    assert tenant.provisioning_step == 3
    assert tenant.provisioning_error == "RuntimeError: mail server on fire"
    assert not Domain.objects.filter(tenant=tenant).exists()
    progress = tenant_provisioning_progress(tenant)
    assert progress["finished"] and progress["percent"] == 50


def test_provisioning_reports_each_step(throwaway_slugs, public_schema):
    slug = unique_slug()
    throwaway_slugs.append(slug)
    tenant = tenant_reserve(name="Stepwise Ltd", slug=slug)
    seen = []
    original_save = Tenant.save

    def spy(self, *args, **kwargs):
        if self.pk == tenant.pk:
            seen.append((self.provisioning_step, self.status))
        return original_save(self, *args, **kwargs)

    with mock.patch.object(Tenant, "save", spy):
        tenant_provision(tenant=tenant, owner=WorkspaceOwner(email="o@stepwise.test", password_hash="!"))
    assert seen == [(2, "provisioning"), (3, "provisioning"), (4, "provisioning"), (4, "active")]


def test_provision_task_emails_the_owner_a_link_on_the_configured_host(
    throwaway_slugs, public_schema, mailoutbox, django_capture_on_commit_callbacks, settings
):
    from accounts import facade
    from tenants.tasks import tenant_provision_task

    settings.SWITCHBOARD_URL_PORT = "8000"
    slug = unique_slug()
    throwaway_slugs.append(slug)
    tenant = tenant_reserve(name="Mailed Ltd", slug=slug)
    with (
        mock.patch.object(facade, "owner_send_verification", wraps=facade.owner_send_verification) as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        # A task queued before links came from configuration still carries a host: it is not used.
        tenant_provision_task.delay(tenant.id, "Owner@Mailed.test", "!", admin_name="Olive Owner", host="evil.test")
    [call] = send.call_args_list
    assert call.kwargs["user"].email == "owner@mailed.test"
    assert call.kwargs["user"].name == "Olive Owner"
    assert len(mailoutbox) == 1
    assert f"http://{slug}.localhost:8000/accounts/confirm-email/" in mailoutbox[0].body
    assert "evil.test" not in mailoutbox[0].body


def test_a_failing_verification_email_does_not_fail_a_ready_workspace(throwaway_slugs, public_schema):
    from tenants.tasks import tenant_provision_task

    slug = unique_slug()
    throwaway_slugs.append(slug)
    tenant = tenant_reserve(name="Quiet Ltd", slug=slug)
    with mock.patch("accounts.facade.owner_send_verification", side_effect=ConnectionRefusedError("smtp down")):
        tenant_provision_task.delay(tenant.id, "owner@quiet.test", "!")
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ACTIVE


# --- manage.py tenant_create ----------------------------------------------------------------------


def test_tenant_create_command_creates_a_ready_workspace(throwaway_slugs, public_schema):
    slug = unique_slug()
    throwaway_slugs.append(slug)
    out = StringIO()
    call_command("tenant_create", name="Command Ltd", slug=slug, admin_email="boss@command.test", stdout=out)
    output = out.getvalue()
    assert f"Workspace “Command Ltd” is ready at http://{slug}.localhost/" in output
    assert "Owner: boss@command.test  password: " in output  # generated, shown once
    with schema_context("public"):
        tenant = Tenant.objects.get(slug=slug)
    assert tenant.is_active and schema_exists(tenant.schema_name)


def test_tenant_create_command_keeps_a_given_password_quiet(throwaway_slugs, public_schema):
    slug = unique_slug()
    throwaway_slugs.append(slug)
    out = StringIO()
    call_command(
        "tenant_create", name="Quiet", slug=slug, admin_email="q@q.test", admin_password="Given-pass-123", stdout=out
    )
    assert "Given-pass-123" not in out.getvalue()


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        (
            "Bad Slug",
            "slug: Use 1–40 lowercase letters, digits or hyphens, starting and ending with a letter or digit.",
        ),
        ("admin", "slug: “admin” is reserved. Please choose another address."),
        ("alpha", "slug: “alpha” is already taken. Please choose another address."),
    ],
)
def test_tenant_create_command_turns_bad_slugs_into_a_command_error(public_schema, tenant, slug, message):
    with pytest.raises(CommandError) as caught:
        call_command("tenant_create", name="X", slug=slug, admin_email="x@x.test", stdout=StringIO())
    assert str(caught.value) == message
