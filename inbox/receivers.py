"""Where the inbox listens to the helpdesk: each public message a customer must receive is handed to the
delivery of the ticket's channel. Receivers connect here, one per channel, and only queue work (Celery)."""

from __future__ import annotations

from django.dispatch import receiver

from helpdesk.contracts import OutgoingMessage, TicketEventPayload, outgoing_message, ticket_event, ticket_event_wanted


@receiver(outgoing_message, dispatch_uid="inbox-outgoing")
def outgoing_deliver(sender, *, message: OutgoingMessage, **kwargs) -> None:
    # Filled in per channel (email, chat, SMS) by inbox.services.
    from .services import outbound, outbound_email  # noqa: F401  (outbound_email registers the email deliverer)

    outbound.outgoing_route(message)


@receiver(ticket_event, dispatch_uid="inbox-webhooks")
def ticket_event_webhooks(sender, *, event: TicketEventPayload, **kwargs) -> None:
    """Outbound webhooks: one delivery per subscription that wants this event, queued for sending."""
    from .services import webhooks

    webhooks.webhook_event_dispatch(event)


@receiver(ticket_event_wanted, dispatch_uid="inbox-webhooks-wanted")
def ticket_event_wanted_webhooks(sender, *, event: str, **kwargs) -> bool:
    """Only when an enabled subscription wants it: otherwise the helpdesk does not describe the ticket at all."""
    from .selectors.webhooks import webhook_event_wanted

    return webhook_event_wanted(event)
