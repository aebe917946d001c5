"""Macros (/tickets/macros/) and the composer's macro endpoints on a ticket (/tickets/<id>/macros/)."""

from django.urls import path

from ..views import macros as views

app_name = "macros"
urlpatterns = [
    path("macros/", views.macro_list, name="macro_list"),
    path("macros/new/", views.macro_create, name="macro_create"),
    path("macros/action-row/", views.macro_action_row, name="macro_action_row"),
    path("macros/preview/", views.macro_preview, name="macro_preview"),
    path("macros/<int:macro_id>/edit/", views.macro_update, name="macro_update"),
    path("macros/<int:macro_id>/delete/", views.macro_delete, name="macro_delete"),
    path("<int:ticket_id>/macros/", views.macro_search, name="macro_search"),
    path("<int:ticket_id>/macros/<int:macro_id>/", views.macro_insert, name="macro_insert"),
    path("<int:ticket_id>/macros/<int:macro_id>/apply/", views.macro_apply, name="macro_apply"),
]
