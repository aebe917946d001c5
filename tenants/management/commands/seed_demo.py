"""Fills the platform with demo data: platform staff, and workspaces "acme" and "globex" with a team, customers, a
helpdesk (six months of tickets, a knowledge base), leads, quotes and a recurring defect the trends page finds.

Idempotent: run it again and only what is missing is created. `make run` calls it on every start.
"""

from __future__ import annotations

import zlib
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from tenants.models import Tenant
from tenants.services import platform_bootstrap, tenant_create, workspace_domain

STAFF_EMAIL = "staff@switchboard.test"
DEMO_WORKSPACES = {"acme": "Acme Corporation", "globex": "Globex Industries"}
# Customer records are owned by the people who sell to and support them.
CUSTOMER_OWNER_ROLES = ("agent", "sales")
# Who answers the demo tickets: the agents and the admin (who leads a team).
HELPDESK_ROLES = ("agent", "admin")
# Who works the demo pipeline.
LEAD_OWNER_ROLES = ("sales", "admin")
DEMO_LEADS = 300


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=200, help="customers per workspace (default 200)")
        parser.add_argument("--contacts", type=int, default=None, help="contacts per workspace (default 3 × customers)")
        parser.add_argument("--tickets", type=int, default=None, help="tickets per workspace (default 25 × customers)")

    def handle(self, *args: Any, customers: int, contacts: int | None, tickets: int | None, **options: Any) -> None:
        contacts = 3 * customers if contacts is None else contacts
        tickets = 25 * customers if tickets is None else tickets
        password = settings.DEMO_PASSWORD
        platform_bootstrap()
        staff_created = self._ensure_staff(password)
        self.stdout.write(f"Platform staff {STAFF_EMAIL} ({'created' if staff_created else 'exists'}) for /admin/")
        for slug, name in DEMO_WORKSPACES.items():
            tenant, created = self._ensure_workspace(slug, name, password)
            with tenant_context(tenant):
                summary = self._seed_workspace(slug, customers=customers, contacts=contacts, tickets=tickets)
            state = "created" if created else "exists"
            self.stdout.write(f"Workspace {name} ({state}) at {workspace_domain(slug)}: {summary}")
        connection.set_schema_to_public()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Every demo account's password is “{password}”."))

    def _ensure_staff(self, password: str) -> bool:
        from accounts.facade import platform_staff_ensure

        with schema_context(get_public_schema_name()):
            return platform_staff_ensure(email=STAFF_EMAIL, password=password, name="Platform Staff")

    def _ensure_workspace(self, slug: str, name: str, password: str) -> tuple[Tenant, bool]:
        with schema_context(get_public_schema_name()):
            tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is not None:
            return tenant, False
        tenant = tenant_create(name=name, slug=slug, admin_email=f"owner@{slug}.test", admin_password=password)
        return tenant, True

    def _seed_workspace(self, slug: str, *, customers: int, contacts: int, tickets: int) -> str:
        from accounts.demo import seed_team
        from automation.demo import seed_automation
        from customers.demo import seed_customers, seed_daily_summaries, seed_health, seed_notes_and_tasks
        from helpdesk.demo import seed_helpdesk
        from inbox.demo import seed_inbox
        from insights.demo import seed_insights
        from leads.demo import seed_capture, seed_lead_extras, seed_leads
        from notifications.demo import seed_notifications
        from quotes.demo import seed_quotes

        team = seed_team(email_domain=f"{slug}.test")
        owners = [user for user in team.values() if user.role in CUSTOMER_OWNER_ROLES] or list(team.values())
        # A fixed seed per workspace: the same demo data on every machine, different between workspaces.
        created = seed_customers(owners=owners, customers=customers, contacts=contacts, seed=zlib.crc32(slug.encode()))
        agents = [user for user in team.values() if user.role in HELPDESK_ROLES]
        helpdesk = seed_helpdesk(agents=agents, tickets=tickets, seed=zlib.crc32(slug.encode()))
        inbox = seed_inbox(slug=slug)
        notes, tasks = seed_notes_and_tasks(authors=owners, seed=zlib.crc32(slug.encode()))
        health = seed_health()  # after the tickets: the scores read them
        sellers = [user for user in team.values() if user.role in LEAD_OWNER_ROLES] or owners
        leads = seed_leads(owners=sellers, leads=DEMO_LEADS, seed=zlib.crc32(slug.encode()))
        if leads:  # the lead page shows the trained conversion model, not the heuristic (a few seconds, queued)
            from ai.facade import outcome_train_queue

            outcome_train_queue("leads.conversion")  # registered by leads' AppConfig.ready
        web_leads = seed_capture(owners=sellers, slug=slug, seed=zlib.crc32(slug.encode()))
        partner_leads = seed_lead_extras(owners=sellers, seed=zlib.crc32(slug.encode()))  # a second pipeline, views
        quotes = seed_quotes(owners=sellers, seed=zlib.crc32(slug.encode()))
        # After tickets, leads and quotes: a recurring defect on top of them, detected and alerted once.
        insights = seed_insights(agents=agents, sellers=sellers, seed=zlib.crc32(slug.encode()))
        summaries = seed_daily_summaries(authors=owners, seed=zlib.crc32(slug.encode()))  # last: a day's every entry
        admin = next((user for user in team.values() if user.role == "admin"), owners[0])
        automation = seed_automation(admin=admin)  # after the tickets: its rules fire on them
        notices = seed_notifications(people=list(team.values()), seed=zlib.crc32(slug.encode()))
        return (
            f"{len(team)} people (owner@{slug}.test, agent@{slug}.test…), {created} customers added, {helpdesk}, "
            f"inbox: {inbox}, {notes} notes and {tasks} tasks, {health}, {leads} leads added "
            f"({web_leads} more from the web form, {partner_leads} partner deals), {quotes} quotes added, "
            f"insights: {insights}, {summaries}, {automation}, {notices}"
        )
