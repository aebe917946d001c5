"""Google's consent for Gmail mailboxes (inbox/views/cloudmail.py), under /settings/channels/."""

from django.urls import path

from ..views import cloudmail

urlpatterns = [
    path("cloud/gmail/connect/", cloudmail.gmail_connect, name="gmail_connect"),
    path("cloud/gmail/callback/", cloudmail.gmail_callback, name="gmail_callback"),
]
