"""Received mail for agents (/inbox/messages/)."""

from django.urls import path

from ..views import inbound as views

urlpatterns = [
    path("messages/<int:inbound_id>/raw/", views.inbound_raw, name="inbound_raw"),
]
