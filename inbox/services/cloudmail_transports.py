"""The outbound transports of Microsoft 365 and Gmail mailboxes (`transports.send` picks them by mailbox kind).

Registered when this module is imported (inbox.apps, at start-up); the provider clients are imported only when a
message is sent, so processes that never send through them do not load msal or Google's client.
"""

from __future__ import annotations

from collections.abc import Callable

from ..models import Mailbox
from . import transports

CloudSend = Callable[[Mailbox, bytes, str, list[str]], str]


@transports.transport(Mailbox.Kind.MICROSOFT365)
def microsoft365_transport(mailbox: Mailbox | None, raw: bytes, envelope_from: str, recipients: list[str]) -> str:
    from ..fetchers.graph import graph_send

    return _cloud_send(graph_send, mailbox, raw, envelope_from, recipients)


@transports.transport(Mailbox.Kind.GMAIL)
def gmail_transport(mailbox: Mailbox | None, raw: bytes, envelope_from: str, recipients: list[str]) -> str:
    from ..fetchers.gmail import gmail_send

    return _cloud_send(gmail_send, mailbox, raw, envelope_from, recipients)


def _cloud_send(send: CloudSend, mailbox: Mailbox | None, raw: bytes, envelope_from: str, recipients: list[str]) -> str:
    """The provider's answer; its refusals as the outbound service's retry (transient) or give-up (permanent)."""
    from ..fetchers.base import CloudMailError

    if mailbox is None:
        raise transports.PermanentSendError("A Microsoft 365 or Gmail message needs its mailbox.")
    try:
        return send(mailbox, raw, envelope_from, recipients)
    except CloudMailError as error:
        refusal = transports.TransientSendError if error.temporary else transports.PermanentSendError
        raise refusal(str(error)) from None
