"""Settings → Channels (/settings/channels/): the workspace's support addresses, "Connect your support address"
(choose a kind, fill its form or consent), "Test connection" and the test message round trip, edit, disable,
delete, default. Owners and admins only (`helpdesk.configure`).

Kinds are a registry (`KINDS`): another kind's connect page is a `ChannelKind` with its form class and template,
registered with `channel_kind_register` from that kind's own module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from core.forms import add_service_errors
from core.htmx import render_partial

from ..channel_forms import (
    ForwardMailboxForm,
    GmailMailboxForm,
    ImapMailboxForm,
    MailboxForm,
    Microsoft365MailboxForm,
)
from ..models import Mailbox
from ..selectors import mailboxes as selectors
from ..services import mailboxes as services

CAPABILITY = "helpdesk.configure"
DETAIL_TEMPLATE = "inbox/channel_detail.html"


@dataclass(frozen=True)
class ChannelKind:
    kind: str
    title: str
    description: str
    icon: str  # a Bootstrap icon name
    form_class: type[MailboxForm]
    template: str  # the kind's fields, included in the connect/edit page
    consent_url_name: str = ""  # kinds connected by the provider's consent screen (Gmail)


KINDS: dict[str, ChannelKind] = {}


def channel_kind_register(kind: ChannelKind) -> None:
    KINDS[kind.kind] = kind


for _kind in (
    ChannelKind(
        Mailbox.Kind.IMAP,
        "IMAP mailbox",
        "Any mail provider: Switchboard reads new mail every minute with the server name, user name and password.",
        "envelope-paper",
        ImapMailboxForm,
        "inbox/channel_fields_imap.html",
    ),
    ChannelKind(
        Mailbox.Kind.MICROSOFT365,
        "Microsoft 365",
        "Exchange Online through Microsoft Graph, with an app registration your Microsoft admin creates.",
        "microsoft",
        Microsoft365MailboxForm,
        "inbox/channel_fields_microsoft365.html",
    ),
    ChannelKind(
        Mailbox.Kind.GMAIL,
        "Gmail or Google Workspace",
        "Sign in with Google and allow Switchboard to read and send the support mailbox's mail.",
        "google",
        GmailMailboxForm,
        "inbox/channel_fields_gmail.html",
        consent_url_name="inbox:gmail_connect",
    ),
    ChannelKind(
        Mailbox.Kind.FORWARD,
        "Forwarding",
        "Keep your mail provider and forward the support address's mail to Switchboard.",
        "forward",
        ForwardMailboxForm,
        "inbox/channel_fields_forward.html",
    ),
):
    channel_kind_register(_kind)


# --- Helpers ----------------------------------------------------------------------------------------------


def _kind_or_404(kind: str) -> ChannelKind:
    if kind not in KINDS:
        raise Http404("No such kind of channel.")
    return KINDS[kind]


def _mailbox_or_404(pk: int) -> Mailbox:
    try:
        return selectors.mailbox_get(pk=pk)
    except Mailbox.DoesNotExist as error:
        raise Http404("Not found in this workspace.") from error


def _url_or_blank(name: str) -> str:
    """The URL of a page another part of the inbox provides, or "" while it does not exist."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _detail_context(request: HttpRequest, mailbox: Mailbox, **extra: Any) -> dict[str, Any]:
    webhook = _url_or_blank("inbox:inbound_webhook")
    if "progress" not in extra:
        extra["progress"] = services.mailbox_test_progress(mailbox) if request.method == "GET" else None
    return {
        "mailbox": mailbox,
        "channel_kind": KINDS.get(mailbox.kind),
        "secrets_set": sorted(key for key, value in mailbox.secrets().items() if value),
        "forwarding_address": selectors.mailbox_forwarding_address(mailbox),
        "webhook_url": request.build_absolute_uri(webhook) if webhook else "",
        "can_poll": mailbox.kind in services.POLLERS,
        "can_test": mailbox.kind in services.CONNECTION_CHECKS,
        **extra,
    }


def _form_page(request: HttpRequest, kind: ChannelKind, mailbox: Mailbox | None) -> HttpResponse:
    form = kind.form_class(request.POST or None, mailbox=mailbox)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.mailbox_save(
                mailbox,
                kind=kind.kind,
                name=data["name"],
                address=data["address"],
                display_name=data["display_name"],
                settings=form.settings_value(),
                secrets_given=form.secrets_value(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            verb = "saved" if mailbox else "added"
            can_test = kind.kind in services.CONNECTION_CHECKS
            next_step = "Test the connection to turn it green." if can_test else "Follow the steps below."
            messages.success(request, f"{saved.address} {verb}. {next_step}")
            return redirect("inbox:channel_detail", saved.pk)
    consent_url = _url_or_blank(kind.consent_url_name) if kind.consent_url_name else ""
    context = {"form": form, "channel_kind": kind, "mailbox": mailbox, "consent_url": consent_url}
    return render(request, "inbox/channel_form.html", context)


# --- Pages ------------------------------------------------------------------------------------------------


@capability_required(CAPABILITY)
@require_GET
def channel_list(request: HttpRequest) -> HttpResponse:
    return render(request, "inbox/channels.html", {"mailboxes": selectors.mailbox_list(), "kinds": KINDS})


@capability_required(CAPABILITY)
@require_http_methods(["GET", "POST"])
def channel_connect(request: HttpRequest) -> HttpResponse:
    """Connect your support address: choose the kind, then (?kind=…) fill in its form."""
    kind = request.GET.get("kind")
    if kind is None:
        return render(request, "inbox/channel_connect.html", {"kinds": list(KINDS.values())})
    return _form_page(request, _kind_or_404(kind), None)


@capability_required(CAPABILITY)
@require_GET
def channel_detail(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    return render(request, DETAIL_TEMPLATE, _detail_context(request, _mailbox_or_404(mailbox_id)))


@capability_required(CAPABILITY)
@require_http_methods(["GET", "POST"])
def channel_update(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _mailbox_or_404(mailbox_id)
    return _form_page(request, _kind_or_404(mailbox.kind), mailbox)


@capability_required(CAPABILITY)
@require_http_methods(["GET", "POST"])
def channel_delete(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _mailbox_or_404(mailbox_id)
    if request.method == "POST":
        services.mailbox_delete(mailbox)
        messages.success(request, f"{mailbox.address} deleted. The mail it brought in stays on its tickets.")
        return redirect("inbox:channel_list")
    return render(request, "inbox/channel_confirm_delete.html", {"mailbox": mailbox})


@capability_required(CAPABILITY)
@require_POST
def channel_default(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _mailbox_or_404(mailbox_id)
    services.mailbox_default_set(mailbox)
    messages.success(request, f"Replies now go out from {mailbox.address} by default.")
    return redirect("inbox:channel_list")


@capability_required(CAPABILITY)
@require_POST
def channel_active(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _mailbox_or_404(mailbox_id)
    active = request.POST.get("active") == "1"
    services.mailbox_active_set(mailbox, active=active)
    state = "is read again" if active else "is no longer read; nothing was deleted"
    messages.success(request, f"{mailbox.address} {state}.")
    return redirect("inbox:channel_detail", mailbox.pk)


@capability_required(CAPABILITY)
@require_POST
def channel_test_connection(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _mailbox_or_404(mailbox_id)
    worked, text = services.mailbox_connection_test(mailbox)
    if request.htmx:
        context = _detail_context(request, mailbox, connection_result={"worked": worked, "text": text}, oob=True)
        return render_partial(request, DETAIL_TEMPLATE, "connection-result", context)
    (messages.success if worked else messages.error)(request, text)
    return redirect("inbox:channel_detail", mailbox.pk)


@capability_required(CAPABILITY)
@require_http_methods(["GET", "POST"])
def channel_test_message(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    """POST sends the test message; GET (htmx, every two seconds) says where it is."""
    mailbox = _mailbox_or_404(mailbox_id)
    if request.method == "GET" and not request.htmx:
        return redirect("inbox:channel_detail", mailbox.pk)
    if request.method == "POST":
        services.mailbox_test_send(mailbox)
        if not request.htmx:
            messages.info(request, f"A test message is on its way to {mailbox.address}.")
            return redirect("inbox:channel_detail", mailbox.pk)
    progress = services.mailbox_test_progress(mailbox)
    mailbox.refresh_from_db()
    context = _detail_context(request, mailbox, progress=progress, oob=progress.state != "waiting")
    return render_partial(request, DETAIL_TEMPLATE, "test-progress", context)
