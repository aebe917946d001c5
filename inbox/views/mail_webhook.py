"""POST /inbox/mail/inbound/<token>/: mail providers that forward by webhook send the raw RFC 822 message here,
signed with the mailbox's secret. No session, no CSRF (the signature is the authentication), rate limited."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..services import forwarding
from ..services.webhooks import SIGNATURE_HEADER

CONTENT_TYPES = ("message/rfc822", "application/octet-stream", "text/plain")


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": str(status), "message": message}}, status=status)


@csrf_exempt
@require_POST
def inbound_webhook(request: HttpRequest, token: str) -> JsonResponse:
    mailbox = forwarding.forwarding_mailbox(token)
    if mailbox is None:
        return _error(404, "No forwarding mailbox has this address.")
    if not forwarding.forwarding_rate_allows(token, window=int(time.time() // 60)):
        response = _error(429, "Too many messages this minute; try again shortly.")
        response["Retry-After"] = "60"
        return response
    if request.content_type not in CONTENT_TYPES:
        return _error(415, "Send the raw message as Content-Type: message/rfc822.")
    limit = settings.INBOX_MAX_MESSAGE_BYTES
    length = int(request.headers.get("Content-Length") or 0)
    if length > limit:
        return _error(413, f"The message is {length:,} bytes; the limit is {limit:,}. It was not stored.")
    raw = request.read(limit + 1)  # the stream, not request.body: its own cap (DATA_UPLOAD_MAX_MEMORY_SIZE) is smaller
    if len(raw) > limit:
        return _error(413, f"The message is larger than the limit of {limit:,} bytes. It was not stored.")
    if not raw.strip():
        return _error(400, "The body is empty: send the raw message.")
    try:
        record, created = forwarding.forwarded_mail_receive(
            mailbox=mailbox, raw=raw, signature=request.headers.get(SIGNATURE_HEADER, "")
        )
    except forwarding.SignatureInvalid as error:
        return _error(401, str(error))
    if not created:
        return JsonResponse({"id": record.pk, "status": "already received"}, status=200)
    return JsonResponse({"id": record.pk, "status": record.status}, status=202)
