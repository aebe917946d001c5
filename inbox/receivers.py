"""Where the inbox listens to the helpdesk: each public message a customer must receive is handed to the
delivery of the ticket's channel. Receivers connect here, one per channel, and only queue work (Celery)."""

from __future__ import annotations

from django.dispatch import receiver

from helpdesk.contracts import OutgoingMessage, outgoing_message


@receiver(outgoing_message, dispatch_uid="inbox-outgoing")
def outgoing_deliver(sender, *, message: OutgoingMessage, **kwargs) -> None:
    # Filled in per channel (email, chat, SMS) by inbox.services.
    from .services import outbound, outbound_email  # noqa: F401  (outbound_email registers the email deliverer)

    outbound.outgoing_route(message)
