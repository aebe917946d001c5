"""Agent workspace: ticket list, saved views, ticket detail, composer, bulk actions (/tickets/)."""

from django.urls import path

from ..views import tickets as views

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="ticket_list"),
    path("new/", views.ticket_create, name="ticket_create"),
    path("new/requesters/", views.requester_suggestions, name="requester_suggestions"),
    path("bulk/", views.ticket_bulk, name="ticket_bulk"),
    path("density/", views.ticket_list_density, name="ticket_list_density"),
    path("views/new/", views.saved_view_create, name="saved_view_create"),
    path("views/<int:view_id>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment_download"),
    path("<int:ticket_id>/", views.ticket_detail, name="ticket_detail"),
    path("<int:ticket_id>/edit/", views.ticket_update, name="ticket_update"),
    path("<int:ticket_id>/live/", views.ticket_refresh, name="ticket_refresh"),
    path("<int:ticket_id>/reply/", views.ticket_reply, name="ticket_reply"),
    path("<int:ticket_id>/reply/preview/", views.reply_preview, name="reply_preview"),
]
