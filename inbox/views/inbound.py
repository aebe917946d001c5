"""Received mail for agents: the original .eml of a message, as it arrived."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required
from helpdesk import facade as helpdesk

from ..models import InboundEmail
from ..selectors.inbound import inbound_get, inbound_ids_for_ticket


@require_GET
@capability_required("tickets.view")
def inbound_raw(request: HttpRequest, inbound_id: int) -> FileResponse:
    return _raw_download(inbound_id)


@require_GET
@capability_required("tickets.view")
def ticket_original_email(request: HttpRequest, ticket_id: int, message_id: int | None = None) -> HttpResponse:
    """The email behind a ticket's thread entry (`message_id`), or the one that opened the ticket (none): the
    ticket page links here, as the helpdesk knows its thread and the inbox knows the mail. Without one (a ticket
    opened before its mailbox was connected), back to the ticket, saying so."""
    if helpdesk.ticket_summary(ticket_id) is None:
        raise Http404("No such ticket.")
    inbound_id = inbound_ids_for_ticket(ticket_id=ticket_id).get(message_id)
    if inbound_id is None:
        messages.info(request, "No original email is kept for this message.")
        return redirect("tickets:ticket_detail", ticket_id=ticket_id)
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
