"""Pages for the people who run the workspace (capability notifications.manage): workspace defaults, the delivery
log, and the template editor with live preview and reset to default."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from core.htmx import hx_redirect, render_partial, wants_fragment

from . import rendering, selectors, services
from .contracts import CHANNEL_LABELS, CHANNELS, EventType
from .events import event_type_get, event_types
from .forms import DeliverySettingsForm, TemplateForm, choices_from_post
from .models import Delivery, DeliverySettings, NotificationTemplate
from .preferences import grid, preference_rows


@require_http_methods(["GET", "POST"])
@capability_required("notifications.manage")
def workspace_defaults(request: HttpRequest) -> HttpResponse:
    types = event_types()
    row = DeliverySettings.objects.filter(user__isnull=True).first()
    initial = {name: getattr(row, name) for name in ("quiet_start", "quiet_end", "timezone", "digest")} if row else {}
    form = DeliverySettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.preferences_save(user_id=None, choices=choices_from_post(request.POST, types))
        values = {key: value for key, value in form.cleaned_data.items() if key != "phone"}
        services.delivery_settings_save(user_id=None, **values)
        messages.success(request, "Workspace notification defaults saved.")
        return hx_redirect(request, reverse("notifications:defaults"))
    context = {
        "types": types,
        "rows": preference_rows(types, grid(types, user_id=None)),
        "channels": [(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS],
        "form": form,
        "scope": "workspace",
    }
    return render(request, "notifications/preferences.html", context, status=400 if form.errors else 200)


@require_GET
@capability_required("notifications.manage")
def delivery_log(request: HttpRequest) -> HttpResponse:
    recipient = request.GET.get("recipient", "")
    filters = selectors.DeliveryFilters(
        status=request.GET.get("status", "") if request.GET.get("status") in Delivery.Status.values else "",
        channel=request.GET.get("channel", "") if request.GET.get("channel") in CHANNELS else "",
        recipient=int(recipient) if recipient.isdigit() else None,
    )
    page = selectors.delivery_page(filters=filters, cursor=request.GET.get("cursor"))
    people = get_user_model().objects.filter(is_active=True).order_by("email").values_list("pk", "email")
    context = {
        "page": page,
        "filters": filters,
        "statuses": Delivery.Status.choices,
        "channels": [(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS],
        "people": list(people),
    }
    if wants_fragment(request, "delivery-table"):
        return render_partial(request, "notifications/deliveries.html", "delivery-table", context)
    return render(request, "notifications/deliveries.html", context)


@require_GET
@capability_required("notifications.manage")
def template_list(request: HttpRequest) -> HttpResponse:
    custom = set(NotificationTemplate.objects.values_list("event", "channel"))
    rows = [
        {
            "type": event_type,
            "channels": [
                (channel, CHANNEL_LABELS[channel], (event_type.key, channel) in custom) for channel in CHANNELS
            ],
        }
        for event_type in event_types()
    ]
    return render(request, "notifications/template_list.html", {"rows": rows})


def _event_channel(event: str, channel: str) -> EventType:
    event_type = event_type_get(event)
    if event_type is None or channel not in CHANNELS:
        raise Http404
    return event_type


def _preview(event_type: EventType, channel: str, subject: str, body: str) -> dict:
    wording = rendering.Wording(subject, body)
    sample = {**rendering.COMMON_CONTEXT, **event_type.sample_context}
    problems = rendering.problems(event_type, f"{subject}\n{body}")
    return {"preview": rendering.render(wording, sample), "problems": problems}


@require_http_methods(["GET", "POST"])
@capability_required("notifications.manage")
def template_edit(request: HttpRequest, event: str, channel: str) -> HttpResponse:
    event_type = _event_channel(event, channel)
    default = rendering.default_wording(event_type, channel)
    current = NotificationTemplate.objects.filter(event=event, channel=channel).first()
    initial = (
        {"subject": current.subject, "body": current.body}
        if current
        else {"subject": default.subject, "body": default.body}
    )
    form = TemplateForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        subject, body = form.cleaned_data["subject"], form.cleaned_data["body"]
        problems = rendering.problems(event_type, f"{subject}\n{body}")
        if not problems:
            services.template_save(event=event, channel=channel, subject=subject, body=body, actor=request.user)
            messages.success(request, "Template saved.")
            return hx_redirect(request, reverse("notifications:template_edit", args=[event, channel]))
        for problem in problems:
            form.add_error(None, problem)
        status = 400
    elif request.method == "POST":
        status = 400
    values = form.data if form.is_bound else initial
    context = {
        "event_type": event_type,
        "channel": channel,
        "channel_label": CHANNEL_LABELS[channel],
        "form": form,
        "custom": current is not None,
        "paths": rendering.known_paths(event_type),
        **_preview(event_type, channel, values.get("subject", ""), values.get("body", "")),
    }
    return render(request, "notifications/template_edit.html", context, status=status)


@require_POST
@capability_required("notifications.manage")
def template_preview(request: HttpRequest, event: str, channel: str) -> HttpResponse:
    """The live preview, as the author types (rendered with the event's sample context)."""
    event_type = _event_channel(event, channel)
    context = _preview(event_type, channel, request.POST.get("subject", ""), request.POST.get("body", ""))
    return render_partial(request, "notifications/template_edit.html", "template-preview", context)


@require_POST
@capability_required("notifications.manage")
def template_reset(request: HttpRequest, event: str, channel: str) -> HttpResponse:
    _event_channel(event, channel)
    services.template_reset(event=event, channel=channel)
    messages.success(request, "Template reset to the default.")
    return hx_redirect(request, reverse("notifications:template_edit", args=[event, channel]))
