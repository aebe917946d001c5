"""Outbound webhooks' settings pages and the raw-mail forwarding endpoint (paths included by inbox.urls)."""

from django.urls import path

from ..views import mail_webhook, webhooks

urlpatterns = [
    path("settings/channels/webhooks/", webhooks.webhook_list, name="webhook_list"),
    path("settings/channels/webhooks/new/", webhooks.webhook_create, name="webhook_create"),
    path("settings/channels/webhooks/<int:webhook_id>/", webhooks.webhook_detail, name="webhook_detail"),
    path("settings/channels/webhooks/<int:webhook_id>/secret/", webhooks.webhook_secret_rotate, name="webhook_secret"),
    path("settings/channels/webhooks/<int:webhook_id>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path(
        "settings/channels/webhooks/deliveries/<int:delivery_id>/redeliver/",
        webhooks.webhook_redeliver,
        name="webhook_redeliver",
    ),
    path("inbox/mail/inbound/<str:token>/", mail_webhook.inbound_webhook, name="inbound_webhook"),
]
