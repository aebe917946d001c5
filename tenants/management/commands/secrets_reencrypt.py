"""Re-encrypts every stored secret (AI keys, Copilot tokens, mailbox passwords…) with the newest key, in every
workspace: run it after putting a new secret first in AI_ENCRYPTION_KEYS, then drop the old one."""

from django.core.management.base import BaseCommand

from core import crypto
from tenants.services import for_each_tenant


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options) -> None:
        counts = for_each_tenant(lambda tenant: crypto.encrypted_fields_rotate())
        failed = sorted(schema for schema, count in counts.items() if count is None)
        total = sum(count for count in counts.values() if count)
        self.stdout.write(f"Re-encrypted {total} secrets in {len(counts) - len(failed)} workspaces.")
        if failed:
            self.stderr.write(f"Failed in {', '.join(failed)}: see the log; run the command again once mended.")
