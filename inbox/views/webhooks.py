"""Settings → Channels → Webhooks: subscriptions (the secret shown once, on creation or rotation), each one's
delivery log, and "Redeliver". Owners and admins (helpdesk.configure). The log's table is the `delivery-log`
partial, swapped by a redeliver button."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import capability_required
from core.forms import add_service_errors
from core.htmx import render_partial

from ..forms.webhooks import WebhookForm
from ..models import WebhookDelivery, WebhookSubscription
from ..services import webhooks as services

CAPABILITY = "helpdesk.configure"
LIST_TEMPLATE = "inbox/webhook_list.html"
FORM_TEMPLATE = "inbox/webhook_form.html"
DETAIL_TEMPLATE = "inbox/webhook_detail.html"
LOG_PAGE = 50


@capability_required(CAPABILITY)
@require_http_methods(["GET"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    subscriptions = WebhookSubscription.objects.order_by("-created", "-id")
    return render(request, LIST_TEMPLATE, {"subscriptions": subscriptions})


@capability_required(CAPABILITY)
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = services.webhook_subscription_create(**form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _detail(request, subscription, secret=secret)
    return render(request, FORM_TEMPLATE, {"form": form}, status=400 if form.errors else 200)


@capability_required(CAPABILITY)
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    subscription = get_object_or_404(WebhookSubscription, pk=webhook_id)
    form = None
    if request.method == "POST":
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                services.webhook_subscription_update(subscription=subscription, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Webhook saved.")
                return redirect("inbox:webhook_detail", webhook_id=subscription.pk)
    return _detail(request, subscription, form=form)


def _detail(request: HttpRequest, subscription: WebhookSubscription, *, form=None, secret: str = "") -> HttpResponse:
    form = form or WebhookForm(
        initial={
            "url": subscription.url,
            "description": subscription.description,
            "events": subscription.events,
            "enabled": subscription.enabled,
        }
    )
    context = {"subscription": subscription, "form": form, "secret": secret, **_log_context(request, subscription)}
    return render(request, DETAIL_TEMPLATE, context, status=400 if form.errors else 200)


def _log_context(request: HttpRequest, subscription: WebhookSubscription) -> dict:
    deliveries = WebhookDelivery.objects.filter(subscription=subscription).order_by("-created", "-id")
    page = Paginator(deliveries, LOG_PAGE).get_page(request.GET.get("page"))
    return {"page": page, "deliveries": page.object_list}


@capability_required(CAPABILITY)
@require_POST
def webhook_secret_rotate(request: HttpRequest, webhook_id: int) -> HttpResponse:
    subscription = get_object_or_404(WebhookSubscription, pk=webhook_id)
    secret = services.webhook_secret_rotate(subscription=subscription)
    return _detail(request, subscription, secret=secret)


@capability_required(CAPABILITY)
@require_POST
def webhook_delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    subscription = get_object_or_404(WebhookSubscription, pk=webhook_id)
    services.webhook_subscription_delete(subscription=subscription)
    messages.success(request, "Webhook deleted.")
    return redirect("inbox:webhook_list")


@capability_required(CAPABILITY)
@require_POST
def webhook_redeliver(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("subscription"), pk=delivery_id)
    subscription = delivery.subscription
    try:
        services.webhook_redeliver(delivery=delivery)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Queued for redelivery, with the same payload and delivery id.")
    if getattr(request, "htmx", False):
        subscription.refresh_from_db()
        return render_partial(
            request,
            DETAIL_TEMPLATE,
            "delivery-log",
            {"subscription": subscription, **_log_context(request, subscription)},
        )
    return redirect("inbox:webhook_detail", webhook_id=subscription.pk)
