"""Received mail for agents (/inbox/messages/)."""

from django.urls import path

from ..views import inbound as views

urlpatterns = [
    path("messages/<int:inbound_id>/raw/", views.inbound_raw, name="inbound_raw"),
    path("tickets/<int:ticket_id>/original/", views.ticket_original_email, name="ticket_original_email"),
    path(
        "tickets/<int:ticket_id>/original/<int:message_id>/",
        views.ticket_original_email,
        name="ticket_message_original_email",
    ),
]
