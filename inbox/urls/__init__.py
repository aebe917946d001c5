"""URLs of the inbox (namespace "inbox"), mounted at the workspace's root: each area adds its own include."""

from django.urls import include, path

from . import cloudmail, messages, webhooks

app_name = "inbox"

urlpatterns = [
    path("settings/channels/", include("inbox.urls.channels")),
    path("settings/channels/", include(cloudmail.urlpatterns)),
    path("inbox/", include(messages.urlpatterns)),
    *webhooks.urlpatterns,
]
