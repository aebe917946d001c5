"""Google's consent for Gmail mailboxes (start, callback), for Settings → Channels' "Gmail" kind; workspace admins
only. Microsoft 365 mailboxes need no consent round trip: their app registration is a form of the channel pages
(inbox/views/channels.py), like every other kind.

Secrets go into the services and never come back to a page. Google's consent starts from a POST (CSRF-checked)
and continues on a page with a link, as the AI settings do for Microsoft: the pages' form-action policy would stop
a form's redirect to another site. The callback finishes only the consent this admin started in this workspace
(state and PKCE verifier in their session, compared with the workspace schema and the user).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import capability_required
from core.htmx import hx_redirect

from ..fetchers.base import CloudMailError
from ..models import Mailbox
from ..selectors.mailboxes import mailbox_get
from ..services import cloudmail
from ..services.cloudmail import ConsentRefused, PendingConsent

CAPABILITY = "helpdesk.configure"
GOOGLE_TEMPLATE = "inbox/cloudmail_google_continue.html"
REFUSED_TEMPLATE = "inbox/cloudmail_consent_refused.html"


@require_POST
@capability_required(CAPABILITY)
def gmail_connect(request: HttpRequest) -> HttpResponse:
    """Starts Google's consent for a new Gmail mailbox, or for one again (`mailbox`: the same account must consent)."""
    mailbox = None
    if request.POST.get("mailbox", "").isdigit():
        mailbox = _mailbox_or_404(int(request.POST["mailbox"]))
    try:
        auth_url, pending = cloudmail.gmail_consent_start(
            redirect_uri=_callback_uri(request),
            user_id=request.user.pk,
            name=request.POST.get("name", "")[:100],
            mailbox=mailbox,
        )
    except CloudMailError as error:
        messages.error(request, f"Gmail could not be connected. {error}")
        return hx_redirect(request, reverse("inbox:channel_list"))
    request.session[cloudmail.GMAIL_SESSION_KEY] = pending.as_session()
    if request.htmx:
        return hx_redirect(request, auth_url)
    return render(request, GOOGLE_TEMPLATE, {"auth_url": auth_url})


@require_GET
@capability_required(CAPABILITY)
def gmail_callback(request: HttpRequest) -> HttpResponse:
    """Where Google sends the admin back: stores the mailbox if this is the consent they started here."""
    pending = PendingConsent.from_session(request.session.pop(cloudmail.GMAIL_SESSION_KEY, None))
    params = {key: request.GET.get(key, "") for key in ("state", "code", "error")}
    try:
        mailbox = cloudmail.gmail_consent_finish(
            pending=pending, params=params, user_id=request.user.pk, redirect_uri=_callback_uri(request)
        )
    except ConsentRefused as error:
        return render(request, REFUSED_TEMPLATE, {"reason": str(error)}, status=400)
    messages.success(request, f"Gmail is connected: mail to {mailbox.address} now arrives in the helpdesk.")
    return redirect("inbox:channel_detail", mailbox.pk)


def _callback_uri(request: HttpRequest) -> str:
    # The workspace's own host: Google sends the answer back to the workspace that asked.
    return request.build_absolute_uri(reverse("inbox:gmail_callback"))


def _mailbox_or_404(mailbox_id: int) -> Mailbox:
    try:
        return mailbox_get(pk=mailbox_id)
    except Mailbox.DoesNotExist:
        raise Http404("No such mailbox.") from None
