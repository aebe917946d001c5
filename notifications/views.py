"""Pages of every member: the notification centre, the bell and its dropdown, preferences and push subscription,
Follow on a ticket."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from core.htmx import hx_redirect, render_partial, wants_fragment

from . import push, selectors, services
from .contracts import CHANNEL_LABELS, CHANNELS
from .events import event_types
from .forms import DeliverySettingsForm, choices_from_post
from .models import DeliverySettings
from .preferences import grid, preference_rows


@require_GET
@capability_required("notifications.view")
def notification_centre(request: HttpRequest) -> HttpResponse:
    filters = selectors.CentreFilters(unread=request.GET.get("show") == "unread", event=request.GET.get("event", ""))
    page = selectors.notification_page(user=request.user, filters=filters, cursor=request.GET.get("cursor"))
    labels = {event_type.key: event_type.label for event_type in event_types()}
    context = {
        "page": page,
        "filters": filters,
        "events": [(key, labels.get(key, key)) for key in selectors.notification_events(user=request.user)],
        "labels": labels,
        "unread": selectors.unread_count(user=request.user),
    }
    if wants_fragment(request, "notification-list"):
        return render_partial(request, "notifications/centre.html", "notification-list", context)
    return render(request, "notifications/centre.html", context)


@require_GET
@capability_required("notifications.view")
def notification_bell(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/_bell_count.html", {"unread": selectors.unread_count(user=request.user)})


@require_GET
@capability_required("notifications.view")
def notification_latest(request: HttpRequest) -> HttpResponse:
    context = {"latest": selectors.notifications_latest(user=request.user)}
    return render(request, "notifications/_latest.html", context)


@require_POST
@capability_required("notifications.view")
def notification_open(request: HttpRequest) -> HttpResponse:
    """Marks it read and goes to what it is about (or back to the centre). The id is posted, not in the URL: a
    notification is only ever its recipient's."""
    notification_id = request.POST.get("id", "")
    if not notification_id.isdigit():
        raise Http404
    notification = services.notification_mark_read(user=request.user, notification_id=int(notification_id))
    if notification is None:
        raise Http404
    link = notification.link
    if not (link and link.startswith("/") and url_has_allowed_host_and_scheme(link, allowed_hosts=None)):
        link = reverse("notifications:centre")
    if request.POST.get("stay"):
        link = reverse("notifications:centre")
    return hx_redirect(request, link)


@require_POST
@capability_required("notifications.view")
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(user=request.user)
    return hx_redirect(request, reverse("notifications:centre"))


@require_http_methods(["GET", "POST"])
@capability_required("notifications.view")
def preferences(request: HttpRequest) -> HttpResponse:
    types = event_types()
    own = DeliverySettings.objects.filter(user=request.user).first()
    initial = (
        {name: getattr(own, name) for name in ("quiet_start", "quiet_end", "timezone", "digest", "phone")}
        if own
        else {}
    )
    form = DeliverySettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.preferences_save(user_id=request.user.pk, choices=choices_from_post(request.POST, types))
        services.delivery_settings_save(user_id=request.user.pk, **form.cleaned_data)
        messages.success(request, "Notification preferences saved.")
        return hx_redirect(request, reverse("notifications:preferences"))
    context = {
        "types": types,
        "rows": preference_rows(types, grid(types, user_id=request.user.pk)),
        "channels": [(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS],
        "form": form,
        "push_key": push.application_server_key(),
        "scope": "personal",
    }
    return render(request, "notifications/preferences.html", context, status=400 if form.errors else 200)


def _subscription(request: HttpRequest) -> dict | None:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    keys = data.get("keys") if isinstance(data, dict) else None
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or (not endpoint.startswith("https://") and not endpoint.startswith("http://")):
        return None
    if not isinstance(keys, dict) or not isinstance(keys.get("p256dh"), str) or not isinstance(keys.get("auth"), str):
        return {"endpoint": endpoint, "keys": None}
    return {"endpoint": endpoint[:1000], "keys": keys}


@require_POST
@capability_required("notifications.view")
def push_subscribe(request: HttpRequest) -> HttpResponse:
    """The browser's PushSubscription as JSON (service worker: static/js/push-sw.js)."""
    data = _subscription(request)
    if data is None or data["keys"] is None:
        return HttpResponseBadRequest("Expected a PushSubscription as JSON.")
    services.push_subscription_save(
        user=request.user,
        endpoint=data["endpoint"],
        p256dh=data["keys"]["p256dh"][:200],
        auth=data["keys"]["auth"][:100],
        user_agent=request.headers.get("User-Agent", ""),
    )
    return JsonResponse({"subscribed": True})


@require_POST
@capability_required("notifications.view")
def push_unsubscribe(request: HttpRequest) -> HttpResponse:
    data = _subscription(request)
    if data is None:
        return HttpResponseBadRequest("Expected the subscription's endpoint as JSON.")
    services.push_subscription_delete(user=request.user, endpoint=data["endpoint"])
    return JsonResponse({"subscribed": False})


@require_GET
@capability_required("tickets.edit")
def mention_people(request: HttpRequest) -> HttpResponse:
    """Who a note may @mention (the composer's autocomplete, static/js/mentions.js): people who work tickets."""
    from accounts import facade as accounts

    people = [{"name": name, "email": email} for _pk, name, email in accounts.capability_contacts("tickets.edit")]
    return JsonResponse({"people": people})


@require_http_methods(["GET", "POST"])
@capability_required("tickets.view")
def follow_toggle(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The Follow button of a ticket page (loaded by the page, swapped on click)."""
    from helpdesk import facade as helpdesk

    object_type, object_id = "ticket", ticket_id
    if helpdesk.ticket_summary(ticket_id) is None:
        raise Http404
    if request.method == "POST":
        following = request.POST.get("follow") == "1"
        services.follow_set(user_id=request.user.pk, object_type=object_type, object_id=object_id, following=following)
    following = services.is_following(user_id=request.user.pk, object_type=object_type, object_id=object_id)
    context = {"following": following, "object_type": object_type, "object_id": object_id}
    return render(request, "notifications/_follow_button.html", context)
