"""Inbox endpoints, mounted under /api/v1/: the API channel."""

from django.urls import path

from . import views

app_name = "inbox_api"
urlpatterns = [
    path("inbox/messages/", views.InboundMessageApi.as_view(), name="message_create"),
]
