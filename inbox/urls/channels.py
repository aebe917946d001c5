"""Settings → Channels (inbox/views/channels.py)."""

from django.urls import path

from ..views import channels

urlpatterns = [
    path("", channels.channel_list, name="channel_list"),
    path("connect/", channels.channel_connect, name="channel_connect"),
    path("connect/<str:kind>/", channels.channel_create, name="channel_create"),
    path("<int:pk>/", channels.channel_detail, name="channel_detail"),
    path("<int:pk>/edit/", channels.channel_update, name="channel_update"),
    path("<int:pk>/delete/", channels.channel_delete, name="channel_delete"),
    path("<int:pk>/default/", channels.channel_default, name="channel_default"),
    path("<int:pk>/active/", channels.channel_active, name="channel_active"),
    path("<int:pk>/test-connection/", channels.channel_test_connection, name="channel_test_connection"),
    path("<int:pk>/test-message/", channels.channel_test_message, name="channel_test_message"),
]
