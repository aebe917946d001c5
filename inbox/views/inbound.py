"""Received mail for agents: the original .eml of a message, as it arrived."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required

from ..models import InboundEmail
from ..selectors.inbound import inbound_get, inbound_ids_for_ticket


@require_GET
@capability_required("tickets.view")
def inbound_raw(request: HttpRequest, inbound_id: int) -> FileResponse:
    return _raw_download(inbound_id)


@require_GET
@capability_required("tickets.view")
def ticket_original_email(request: HttpRequest, ticket_id: int, message_id: int | None = None) -> FileResponse:
    """The email behind a ticket's thread entry (`message_id`), or the one that opened the ticket (none): the
    ticket page links here, as the helpdesk knows its thread and the inbox knows the mail."""
    inbound_id = inbound_ids_for_ticket(ticket_id=ticket_id).get(message_id)
    if inbound_id is None:
        raise Http404("No email is kept for this message.")
    return _raw_download(inbound_id)


def _raw_download(inbound_id: int) -> FileResponse:
    """Always a download, never shown inline: the mail's HTML must not run in our origin."""
    try:
        inbound = inbound_get(inbound_id=inbound_id)
        if not inbound.raw:
            raise FileNotFoundError
        handle = inbound.raw.open("rb")
    except (InboundEmail.DoesNotExist, FileNotFoundError):
        raise Http404("No such message.") from None
    response = FileResponse(
        handle, as_attachment=True, filename=f"message-{inbound.pk}.eml", content_type="message/rfc822"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
