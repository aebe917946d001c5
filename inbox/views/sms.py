"""SMS pages and webhooks: Settings → Channels → SMS (owners and admins connect Twilio numbers, see the webhook URLs
to paste into Twilio, test the credentials), and the two public endpoints Twilio calls (incoming texts, delivery
reports), each verified with X-Twilio-Signature against the account's auth token.

Modal forms as in the helpdesk settings: a GET returns the form's `modal-body` partial; a valid POST closes the modal
and swaps `#sms-number-table` out of band. Without JavaScript the same URLs are pages and redirects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from twilio.request_validator import SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER
from twilio.twiml.messaging_response import MessagingResponse

from accounts.permissions import capability_required
from core.forms import add_service_errors
from core.htmx import modal_done, render_modal, render_partial
from core.links import site_origin

from ..forms.sms import SmsNumberForm
from ..models import SmsNumber
from ..selectors import sms as selectors
from ..services import sms as services
from ..services import sms_twilio

logger = logging.getLogger(__name__)

CAPABILITY = "helpdesk.configure"
LIST_TEMPLATE = "inbox/sms_numbers.html"
TABLE = "sms-number-table"


def _context() -> dict:
    return {
        "numbers": selectors.sms_number_list(),
        "urls": services.sms_webhook_urls(),
        "opted_out": selectors.sms_opt_out_count(),
    }


def _number_or_404(number_id: int) -> SmsNumber:
    try:
        return selectors.sms_number_get(number_id=number_id)
    except ObjectDoesNotExist as error:
        raise Http404("No such number in this workspace.") from error


def _saved(request: HttpRequest, text: str) -> HttpResponse:
    messages.success(request, text)
    if not request.htmx:
        return redirect("sms:number_list")
    return modal_done(render_to_string(f"{LIST_TEMPLATE}#{TABLE}", {**_context(), "oob": True}, request=request))


def _form_modal(request: HttpRequest, form: SmsNumberForm, save: Callable[[], str], number=None) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            return _saved(request, save())
        except ValidationError as error:
            add_service_errors(form, error)
    return render_modal(request, "inbox/sms_number_form.html", {"form": form, "number": number})


# --- Settings → Channels → SMS -------------------------------------------------------------------------------


@require_GET
@capability_required(CAPABILITY)
def number_list(request: HttpRequest) -> HttpResponse:
    return render(request, LIST_TEMPLATE, _context())


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def number_create(request: HttpRequest) -> HttpResponse:
    form = SmsNumberForm(request.POST or None)

    def save() -> str:
        number = services.sms_number_create(**form.service_data())
        return f"Connected {number.phone_number}. Paste the webhook URL into Twilio, then test the credentials."

    return _form_modal(request, form, save)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def number_update(request: HttpRequest, sms_number_id: int) -> HttpResponse:
    number = _number_or_404(sms_number_id)
    initial = {
        "phone_number": number.phone_number,
        "account_sid": number.account_sid,
        "messaging_service_sid": number.messaging_service_sid,
        "enabled": number.enabled,
    }
    form = SmsNumberForm(request.POST or None, initial=initial, editing=True)

    def save() -> str:
        services.sms_number_update(number=number, data=form.service_data())
        return f"Saved {number.phone_number}."

    return _form_modal(request, form, save, number)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def number_delete(request: HttpRequest, sms_number_id: int) -> HttpResponse:
    number = _number_or_404(sms_number_id)
    if request.method == "POST":
        services.sms_number_delete(number=number)
        return _saved(request, f"Disconnected {number.phone_number}. Texts to it no longer reach the helpdesk.")
    action = reverse("sms:number_delete", args=[number.pk])
    context = {
        "title": f"Disconnect {number.phone_number}?",
        "body": "Texts to this number stop reaching the helpdesk, and replies on its tickets stop going out by SMS. "
        "Tickets keep every text already received and sent.",
        "action": action,
        "cancel_url": reverse("sms:number_list"),
    }
    return render_modal(request, "inbox/sms_confirm_delete.html", context)


@require_POST
@capability_required(CAPABILITY)
def number_test(request: HttpRequest, sms_number_id: int) -> HttpResponse:
    number = _number_or_404(sms_number_id)
    ok, detail = services.sms_number_test(number=number)
    if request.htmx:
        return render_partial(request, LIST_TEMPLATE, TABLE, _context())
    (messages.success if ok else messages.error)(request, f"{number.phone_number}: {detail}")
    return redirect("sms:number_list")


# --- Twilio's webhooks (public, signed) ------------------------------------------------------------------------


def _twilio_url(request: HttpRequest) -> str:
    """The URL Twilio called: this workspace's host (django-tenants found the workspace by it, so it is one of its
    configured domains), with the configured scheme and port; a proxy in front changes neither."""
    hostname, _port = split_domain_port(request.get_host())
    return f"{site_origin(hostname)}{request.get_full_path()}"


def _refused(request: HttpRequest, number: SmsNumber | None) -> HttpResponse | None:
    """403 unless the request carries a valid X-Twilio-Signature of the number's Twilio account."""
    url = _twilio_url(request)
    if number is not None and sms_twilio.signature_valid(
        auth_token=number.auth_token(),
        url=url,
        params=request.POST,
        signature=request.headers.get(SIGNATURE_HEADER, ""),
        settings_header=request.headers.get(SIGNATURE_SETTINGS_HEADER, ""),
    ):
        return None
    if number is None:
        text = "No Twilio number connected to this workspace matches this request."
    else:
        text = (
            f"The {SIGNATURE_HEADER} header does not match this request. Check that the auth token saved for "
            f"{number.phone_number} is the account's current one, and that Twilio calls exactly {url}"
        )
    logger.warning("Twilio webhook refused: %s", text)
    return HttpResponse(text, status=403, content_type="text/plain; charset=utf-8")


@csrf_exempt  # Twilio signs its requests instead (X-Twilio-Signature)
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    number = selectors.sms_number_for_phone(request.POST.get("To", ""))
    refusal = _refused(request, number)
    if refusal is not None:
        return refusal
    try:
        services.sms_receive(number=number, params=request.POST)
    except ValidationError as error:
        return HttpResponse(" ".join(error.messages), status=400, content_type="text/plain; charset=utf-8")
    # Empty TwiML: no automatic answer (Twilio itself answers STOP, START and HELP).
    return HttpResponse(str(MessagingResponse()), content_type="text/xml")


@csrf_exempt  # signed like the incoming texts
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    message_id = request.GET.get("m", "")
    known = message_id.isdigit() and len(message_id) < 19  # a bigint
    message = selectors.sms_message_get(message_id=int(message_id)) if known else None
    refusal = _refused(request, message.number if message is not None else None)
    if refusal is not None:
        return refusal
    try:
        services.sms_status_update(message=message, params=request.POST)
    except ValidationError as error:
        return HttpResponse(" ".join(error.messages), status=400, content_type="text/plain; charset=utf-8")
    return HttpResponse(status=204)
