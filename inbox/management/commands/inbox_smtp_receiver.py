"""`manage.py inbox_smtp_receiver`: runs the SMTP server behind the forwarding addresses until stopped."""

from __future__ import annotations

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from inbox.smtp_receiver import smtp_receiver_start


class Command(BaseCommand):
    help = "Receives forwarded mail for <workspace>-<mailbox>@INBOX_FORWARD_DOMAIN by SMTP (the domain's MX)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.INBOX_SMTP_HOST)
        parser.add_argument("--port", type=int, default=settings.INBOX_SMTP_PORT)

    def handle(self, *args, host: str, port: int, **options) -> None:
        # aiosmtpd logs every command at INFO, recipients included: a mail server's trace, not the product's log.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        stopped = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopped.set())
        controller = smtp_receiver_start(host=host, port=port)
        self.stdout.write(f"Receiving mail for *@{settings.INBOX_FORWARD_DOMAIN} on {host}:{port}")
        try:
            stopped.wait()
        finally:
            controller.stop()
