"""Microsoft 365 and Gmail mailboxes (inbox/views/cloudmail.py), under /settings/channels/."""

from django.urls import path

from ..views import cloudmail

urlpatterns = [
    path("cloud/", cloudmail.cloudmail_list, name="cloudmail_list"),
    path("cloud/microsoft365/new/", cloudmail.microsoft365_create, name="microsoft365_create"),
    path("cloud/microsoft365/<int:mailbox_id>/edit/", cloudmail.microsoft365_update, name="microsoft365_update"),
    path("cloud/<int:mailbox_id>/test/", cloudmail.cloud_mailbox_test, name="cloud_mailbox_test"),
    path("cloud/gmail/connect/", cloudmail.gmail_connect, name="gmail_connect"),
    path("cloud/gmail/callback/", cloudmail.gmail_callback, name="gmail_callback"),
]
