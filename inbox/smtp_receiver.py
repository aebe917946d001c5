"""The SMTP server behind the forwarding addresses (`<schema>-<mailbox id>@INBOX_FORWARD_DOMAIN`).

People who keep their own mail provider forward their support address to one of these; the platform's MX record
for INBOX_FORWARD_DOMAIN points here (`manage.py inbox_smtp_receiver`, which `make run` starts). A recipient is
accepted only when it names an active workspace and an active forwarding mailbox in it, so senders learn of a
wrong address at RCPT time (550), not by a bounce later. The message is answered 250 only once it is stored whole
and committed (inbox.services.inbound), so a failure here is a 451 that the sending server retries: nothing is lost.
SMTPUTF8 (RFC 6531) is offered: internationalised envelope addresses and UTF-8 headers are taken as they come.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from tenants.selectors import tenant_get_active_by_schema
from tenants.services import tenant_run

from .selectors.mailboxes import forwarding_address_parse
from .services import forwarding

logger = logging.getLogger(__name__)

UNKNOWN = "550 5.1.1 No such mailbox here: check the forwarding address in Switchboard's Settings → Channels"
BUSY = "452 4.2.1 Too many messages for this mailbox this minute; try again later"
NOT_STORED = "451 4.3.0 The message could not be stored; try again later"


@dataclass(frozen=True)
class Target:
    """Where one accepted recipient's copy goes."""

    schema_name: str
    mailbox_id: int


def _fresh_connection(function: Callable) -> Callable:
    """Runs in the server's worker threads: a connection closed or expired since the last call is replaced."""

    def run(*args):
        close_old_connections()
        try:
            return function(*args)
        finally:
            close_old_connections()

    return run


@_fresh_connection
def recipient_check(address: str) -> str | Target:
    """The target a recipient names, or the SMTP answer refusing it."""
    parsed = forwarding_address_parse(address)
    tenant = parsed and tenant_get_active_by_schema(parsed[0])
    if not parsed or tenant is None:
        return UNKNOWN

    def check() -> str | Target:
        mailbox = forwarding.forwarding_smtp_mailbox(parsed[1])
        if mailbox is None:
            return UNKNOWN
        if not forwarding.forwarding_smtp_rate_allows(mailbox, window=int(time.time() // 60)):
            return BUSY
        return Target(schema_name=tenant.schema_name, mailbox_id=mailbox.pk)

    return tenant_run(tenant, check)


@_fresh_connection
def message_store(target: Target, raw: bytes, mail_from: str, peer: str) -> None:
    """Stores one recipient's copy in its workspace (a copy already stored, same Message-ID, is not stored again)."""
    tenant = tenant_get_active_by_schema(target.schema_name)
    if tenant is None:
        raise LookupError(f"workspace {target.schema_name} is no longer active")

    def store() -> None:
        mailbox = forwarding.forwarding_smtp_mailbox(target.mailbox_id)
        if mailbox is None:
            raise LookupError(f"mailbox {target.mailbox_id} is no longer active")
        forwarding.forwarded_smtp_receive(mailbox=mailbox, raw=raw, mail_from=mail_from, peer=peer)

    tenant_run(tenant, store)


class ForwardingHandler:
    """aiosmtpd's handler. `check` and `store` are the two functions above (tests may give others); they touch the
    database, so they run in worker threads, never on the server's event loop."""

    def __init__(
        self,
        check: Callable[[str], str | Target] = recipient_check,
        store: Callable[[Target, bytes, str, str], None] = message_store,
    ) -> None:
        self.check = sync_to_async(check, thread_sensitive=False)
        self.store = sync_to_async(store, thread_sensitive=False)

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        answer = await self.check(address)
        if isinstance(answer, str):
            return answer
        envelope.rcpt_tos.append(address)
        envelope.targets = [*getattr(envelope, "targets", []), answer]
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        peer = session.peer[0] if session.peer else "unknown"
        mail_from = envelope.mail_from if envelope.mail_from not in (None, "<>") else ""
        try:
            for target in dict.fromkeys(getattr(envelope, "targets", [])):  # one copy per mailbox
                await self.store(target, envelope.original_content, mail_from, peer)
        except Exception:
            logger.exception("forwarded mail from %s could not be stored", peer)
            return NOT_STORED
        return "250 2.0.0 OK: received"


def smtp_receiver_start(*, host: str, port: int, handler: ForwardingHandler | None = None) -> Controller:
    """Starts the server in a thread of its own; `.stop()` stops it."""
    controller = Controller(
        handler or ForwardingHandler(),
        hostname=host,
        port=port,
        server_hostname=settings.INBOX_FORWARD_DOMAIN,
        data_size_limit=settings.INBOX_MAX_MESSAGE_BYTES,
        ident="Switchboard",
        enable_SMTPUTF8=True,
    )
    controller.start()
    return controller
