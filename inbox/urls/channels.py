"""Settings → Channels (inbox/views/channels.py)."""

from django.urls import path

from ..views import channels

urlpatterns = [
    path("", channels.channel_list, name="channel_list"),
    path("connect/", channels.channel_connect, name="channel_connect"),
    path("<int:mailbox_id>/", channels.channel_detail, name="channel_detail"),
    path("<int:mailbox_id>/edit/", channels.channel_update, name="channel_update"),
    path("<int:mailbox_id>/delete/", channels.channel_delete, name="channel_delete"),
    path("<int:mailbox_id>/default/", channels.channel_default, name="channel_default"),
    path("<int:mailbox_id>/active/", channels.channel_active, name="channel_active"),
    path("<int:mailbox_id>/test-connection/", channels.channel_test_connection, name="channel_test_connection"),
    path("<int:mailbox_id>/test-message/", channels.channel_test_message, name="channel_test_message"),
]
