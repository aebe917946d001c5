"""Connecting Microsoft 365 and Gmail mailboxes: the list with each one's health, the Microsoft 365 form (app
registration + "Test connection"), and Google's consent (start, callback). Workspace admins only.

The lead's Settings → Channels page links here (or includes the `cloud-mailboxes` partial). Secrets go into the
services and never come back to a page. Google's consent starts from a POST (CSRF-checked) and continues on a
page with a link, as the AI settings do for Microsoft: the pages' form-action policy would stop a form's redirect
to another site. The callback finishes only the consent this admin started in this workspace (state and PKCE
verifier in their session, compared with the workspace schema and the user).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from core.forms import BootstrapFormMixin, add_service_errors
from core.htmx import hx_redirect, render_modal

from ..fetchers import gmail
from ..fetchers.base import CloudMailError
from ..models import Mailbox
from ..selectors.cloudmail import cloud_mailbox_list, mailbox_get
from ..services import cloudmail
from ..services.cloudmail import ConsentRefused, PendingConsent

CAPABILITY = "helpdesk.configure"
LIST_TEMPLATE = "inbox/cloudmail_list.html"
FORM_TEMPLATE = "inbox/cloudmail_microsoft365_form.html"
GOOGLE_TEMPLATE = "inbox/cloudmail_google_continue.html"
REFUSED_TEMPLATE = "inbox/cloudmail_consent_refused.html"


class Microsoft365Form(BootstrapFormMixin, forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="Shown to agents; the address when blank.")
    address = forms.EmailField(label="Support address", help_text="The Microsoft 365 mailbox customers write to.")
    display_name = forms.CharField(
        max_length=100, required=False, help_text='Shown as the sender, e.g. "Acme Support".'
    )
    tenant_id = forms.CharField(label="Directory (tenant) id", max_length=100)
    client_id = forms.CharField(label="Application (client) id", max_length=100)
    client_secret = forms.CharField(
        label="Client secret",
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The app registration needs the Mail.Read and Mail.Send application permissions, admin-consented.",
    )

    def __init__(self, *args, mailbox: Mailbox | None = None, **kwargs) -> None:
        if mailbox is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": mailbox.name,
                    "address": mailbox.address,
                    "display_name": mailbox.display_name,
                    "tenant_id": (mailbox.settings or {}).get("tenant_id", ""),
                    "client_id": (mailbox.settings or {}).get("client_id", ""),
                },
            )
        super().__init__(*args, **kwargs)
        if mailbox is not None:
            self.fields["client_secret"].help_text = "Leave blank to keep the stored secret."
        self.style_fields()


@require_GET
@capability_required(CAPABILITY)
def cloudmail_list(request: HttpRequest) -> HttpResponse:
    context = {"mailboxes": list(cloud_mailbox_list()), "google_ready": gmail.consent_configured()}
    return render(request, LIST_TEMPLATE, context)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def microsoft365_create(request: HttpRequest) -> HttpResponse:
    return _microsoft365_form(request, None)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def microsoft365_update(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _mailbox_or_404(mailbox_id)
    if mailbox.kind != Mailbox.Kind.MICROSOFT365:
        messages.info(request, f"{mailbox.address} is not a Microsoft 365 mailbox: there is nothing to edit here.")
        return hx_redirect(request, reverse("inbox:cloudmail_list"))
    return _microsoft365_form(request, mailbox)


def _microsoft365_form(request: HttpRequest, mailbox: Mailbox | None) -> HttpResponse:
    form = Microsoft365Form(request.POST or None, mailbox=mailbox)
    if request.method == "POST" and form.is_valid():
        try:
            saved = cloudmail.microsoft365_mailbox_save(mailbox=mailbox, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            _verdict_message(request, saved, cloudmail.cloud_mailbox_test(saved))
            return hx_redirect(request, reverse("inbox:cloudmail_list"))
    return render_modal(request, FORM_TEMPLATE, {"form": form, "mailbox": mailbox})


@require_POST
@capability_required(CAPABILITY)
def cloud_mailbox_test(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    """ "Test connection": gets a token and reads the mailbox; the verdict is shown and written on the mailbox."""
    mailbox = _mailbox_or_404(mailbox_id)
    if mailbox.kind not in cloudmail.CLOUD_KINDS:
        messages.info(request, f"{mailbox.address} is tested from its own channel settings.")
    else:
        _verdict_message(request, mailbox, cloudmail.cloud_mailbox_test(mailbox))
    return hx_redirect(request, reverse("inbox:cloudmail_list"))


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
        return hx_redirect(request, reverse("inbox:cloudmail_list"))
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
    return redirect("inbox:cloudmail_list")


def _callback_uri(request: HttpRequest) -> str:
    # The workspace's own host: Google sends the answer back to the workspace that asked.
    return request.build_absolute_uri(reverse("inbox:gmail_callback"))


def _mailbox_or_404(mailbox_id: int) -> Mailbox:
    mailbox = mailbox_get(mailbox_id=mailbox_id)
    if mailbox is None:
        raise Http404("No such mailbox.")
    return mailbox


def _verdict_message(request: HttpRequest, mailbox: Mailbox, verdict: cloudmail.ConnectionTest) -> None:
    if verdict.ok:
        messages.success(request, f"{mailbox.address}: {verdict.message}")
    else:
        messages.error(request, f"{mailbox.address} is saved but does not work yet: {verdict.message}")
