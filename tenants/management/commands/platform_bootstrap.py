"""Creates the public site's tenant and hosts, and the migrated template workspaces are cloned from."""

from django.core.management.base import BaseCommand

from tenants.services import platform_bootstrap


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options) -> None:
        platform_bootstrap()
        self.stdout.write(self.style.SUCCESS("Public site and workspace template are ready."))
