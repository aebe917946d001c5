"""Set-ups that fail or die half-way: the sweep frees their address, a re-run replaces a leftover schema, and
`migrate_schemas` keeps working for everyone else. The last test really SIGKILLs `tenant_create` mid-clone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_exists

from core.testing.live import ROOT, database_url, run_in_thread, server_env
from tenants.models import Domain, Tenant
from tenants.services import (
    PROVISIONING_LOCK,
    WorkspaceOwner,
    tenant_create,
    tenant_provision,
    tenant_reserve,
    tenants_provisioning_sweep,
)
from tenants.tests.conftest import OWNER_PASSWORD, drop_workspace, unique_slug
from tenants.validators import schema_name_for_slug

pytestmark = pytest.mark.django_db


def raw_connection(**options) -> psycopg.Connection:
    """A PostgreSQL session of its own on the test database (not Django's, which is inside the test transaction)."""
    params = connection.get_connection_params()
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    return psycopg.connect(**params, **options)


def create_schema(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{name}"')
        cursor.execute(f'CREATE TABLE "{name}".half_copied (id int)')


def test_failed_and_dead_set_ups_are_removed_and_their_address_freed(public_schema, make_reservation):
    failed = make_reservation(status=Tenant.Status.FAILED, step=3)
    dead = make_reservation(step=2)  # past step 1, and nobody holds its lock: its process is gone
    create_schema(dead.schema_name)

    removed = tenants_provisioning_sweep()

    assert set(removed) >= {failed.slug, dead.slug}
    assert not Tenant.objects.filter(pk__in=[failed.pk, dead.pk]).exists()
    assert not Domain.objects.filter(tenant_id__in=[failed.pk, dead.pk]).exists()
    assert not schema_exists(dead.schema_name)
    tenant_reserve(name="Second Try", slug=dead.slug)  # the address can be used again


def test_live_and_just_reserved_set_ups_are_left_alone(public_schema, make_reservation, make_workspace):
    queued = make_reservation(step=1)  # its task may still be waiting in the queue
    stale = make_reservation(step=1)
    Tenant.objects.filter(pk=stale.pk).update(created=stale.created - timedelta(hours=2))
    working = make_reservation(step=2)
    active = make_workspace()
    with raw_connection(autocommit=True) as other_process:
        other_process.execute("SELECT pg_advisory_lock(%s, %s)", [PROVISIONING_LOCK, working.pk])

        removed = tenants_provisioning_sweep()

    assert stale.slug in removed
    assert not {queued.slug, working.slug, active.slug} & set(removed)
    assert Tenant.objects.filter(pk__in=[queued.pk, working.pk, active.pk]).count() == 3


def test_a_rerun_replaces_a_schema_left_by_a_dead_run(public_schema, throwaway_slugs):
    slug = unique_slug()
    throwaway_slugs.append(slug)
    tenant = tenant_reserve(name="Rerun Ltd", slug=slug)
    create_schema(tenant.schema_name)

    tenant_provision(tenant=tenant, owner=WorkspaceOwner(email=f"owner@{slug}.test", password_hash="!"))

    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ACTIVE
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s), to_regclass(%s)", [f"{tenant.schema_name}.half_copied",
                                                                    f"{tenant.schema_name}.accounts_user"])  # fmt: skip
        assert cursor.fetchone() == (None, f"{tenant.schema_name}.accounts_user")


def test_a_task_redelivered_after_the_sweep_does_nothing(public_schema, make_reservation, caplog):
    from tenants.tasks import tenant_provision_task

    reservation = make_reservation(status=Tenant.Status.FAILED, step=2)
    tenants_provisioning_sweep()

    tenant_provision_task.delay(reservation.pk, "owner@gone.test", "!")

    assert "no longer exists" in caplog.text
    assert not schema_exists(reservation.schema_name)


def test_the_browser_that_signed_up_learns_that_set_up_failed_after_the_sweep(public_schema, make_reservation):
    reservation = make_reservation(status=Tenant.Status.FAILED, step=2, name="Gone Ltd")
    mine = Client(HTTP_HOST="localhost")
    session = mine.session
    session["signup"] = {"slug": reservation.slug, "email": "o@gone.test", "name": "Gone Ltd"}
    session.save()
    tenants_provisioning_sweep()

    page = mine.get(f"/signup/{reservation.slug}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Gone Ltd" in html and "Set-up failed: please try again" in html and 'href="/signup/"' in html
    assert Client(HTTP_HOST="localhost").get(f"/signup/{reservation.slug}/").status_code == 404


# --- A real kill in the middle of the clone ------------------------------------------------------


def wait_for(condition: Callable[[], object], *, what: str, process: subprocess.Popen | None = None, log=None):
    deadline = time.monotonic() + 120  # generous: two cores shared by several test runs
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"tenant_create exited ({process.returncode}) before {what}:\n{log.read_text()}")
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_set_up_killed_mid_clone_is_swept_and_migrate_schemas_still_works(django_db_blocker, tmp_path):
    slug = unique_slug("k")
    schema = schema_name_for_slug(slug)
    log = tmp_path / "tenant_create.log"
    env = server_env(database=database_url(connection.settings_dict), redis_url=settings.REDIS_URL)
    env["TENANT_SCHEMA_PG_DUMP"] = "off"  # the clone is the path that can be stopped half-way, by a lock
    command = [sys.executable, "manage.py", "tenant_create", "--name", "Killed Ltd", "--slug", slug,
               "--admin-email", f"owner@{slug}.test", "--admin-password", OWNER_PASSWORD]  # fmt: skip
    observer = raw_connection(autocommit=True)
    blocker = raw_connection()  # holds a lock the clone needs, so it stops half-way, observably
    try:
        blocker.execute(f'LOCK TABLE "{settings.TENANT_BASE_SCHEMA}".accounts_user IN ACCESS EXCLUSIVE MODE')
        with log.open("wb") as output:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            step = "SELECT provisioning_step FROM public.tenants_tenant WHERE slug = %s"
            wait_for(lambda: observer.execute(step, [slug]).fetchone() == (2,), what="step 2", process=process, log=log)
            cloning = (
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                " AND query LIKE %s"
            )
            backend = wait_for(
                lambda: observer.execute(cloning, ["%clone_schema%"]).fetchone(),
                what="the clone waiting half-way",
                process=process,
                log=log,
            )[0]
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
        blocker.rollback()  # the orphaned server session finishes (or drops) the clone, then notices its client died
        gone = "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)"
        wait_for(lambda: observer.execute(gone, [backend]).fetchone()[0], what="the dead run's session to end")

        with django_db_blocker.unblock():
            row = Tenant.objects.filter(slug=slug).values_list("status", "provisioning_step")
            stuck = run_in_thread(lambda: row[0])
            assert stuck == (Tenant.Status.PROVISIONING, 2)  # stuck for good: nobody will finish it
            # django-tenants' own executor path (an explicit app label runs everywhere) and ours both still work.
            run_in_thread(lambda: call_command("migrate_schemas", "customers", tenant=True, interactive=False))

            assert slug in run_in_thread(tenants_provisioning_sweep)

            assert not run_in_thread(lambda: Tenant.objects.filter(slug=slug).exists())
            assert not run_in_thread(lambda: schema_exists(schema))
            again = run_in_thread(lambda: tenant_create(name="Killed Ltd", slug=slug,
                                                        admin_email=f"owner@{slug}.test",
                                                        admin_password=OWNER_PASSWORD))  # fmt: skip
            assert again.is_active
            run_in_thread(lambda: call_command("migrate_schemas", tenant=True, interactive=False))
    finally:
        blocker.close()
        observer.close()
        with django_db_blocker.unblock():
            run_in_thread(lambda: drop_workspace(slug))
