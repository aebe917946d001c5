"""Creates a workspace with its owner: `manage.py tenant_create --name Acme --slug acme --admin-email a@acme.test`."""

import secrets

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.links import workspace_url
from tenants.services import tenant_create, workspace_domain


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", help="generated and printed when omitted")

    def handle(self, *args, name: str, slug: str, admin_email: str, admin_password: str | None, **options) -> None:
        password = admin_password or secrets.token_urlsafe(12)
        try:
            tenant = tenant_create(name=name, slug=slug, admin_email=admin_email, admin_password=password)
        except ValidationError as error:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
            raise CommandError(problems) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Workspace “{tenant.name}” is ready at {workspace_url(hostname=workspace_domain(tenant.slug))}"
            )
        )
        self.stdout.write(f"Owner: {admin_email}" + ("" if admin_password else f"  password: {password}"))
