"""Workspace pages under /customers/."""

from django.urls import path

from . import views, views_live, views_lookup

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("lookup/", views_lookup.customer_lookup, name="customer_lookup"),
    path("contacts/lookup/", views_lookup.contact_lookup, name="contact_lookup"),
    path("new/", views.customer_create, name="customer_create"),
    path("export.csv", views.customer_export, name="customer_export"),
    path("import/", views.customer_import, name="customer_import"),
    path("import/<slug:kind>/<str:token>/", views.import_confirm, name="import_confirm"),
    path("<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("<int:customer_id>/edit/", views.customer_update, name="customer_update"),
    path("<int:customer_id>/delete/", views.customer_delete, name="customer_delete"),
    path("<int:customer_id>/churn/", views.customer_churn_mark, name="customer_churn_mark"),
    path("<int:customer_id>/churn/undo/", views.customer_churn_unmark, name="customer_churn_unmark"),
    path("<int:customer_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/export.csv", views.contact_export, name="contact_export"),
    path("contacts/import/", views.contact_import, name="contact_import"),
    path("contacts/<int:contact_id>/edit/", views.contact_update, name="contact_update"),
    path("contacts/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact_detail"),
    # Timeline pages and notes and tasks, on a company or on one person.
    path("<int:customer_id>/timeline/", views.customer_timeline, name="customer_timeline"),
    path("contacts/<int:contact_id>/timeline/", views.contact_timeline, name="contact_timeline"),
    path("<int:customer_id>/notes/new/", views.note_create, name="customer_note_create"),
    path("contacts/<int:contact_id>/notes/new/", views.note_create, name="contact_note_create"),
    path("<int:customer_id>/tasks/new/", views.task_create, name="customer_task_create"),
    path("contacts/<int:contact_id>/tasks/new/", views.task_create, name="contact_task_create"),
    path("notes/<int:note_id>/edit/", views.note_update, name="note_update"),
    path("notes/<int:note_id>/pin/", views.note_pin, name="note_pin"),
    path("notes/<int:note_id>/delete/", views.note_delete, name="note_delete"),
    path("tasks/<int:task_id>/edit/", views.task_update, name="task_update"),
    path("tasks/<int:task_id>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:task_id>/reopen/", views.task_reopen, name="task_reopen"),
]

# What a company page fetches again after a push (customers/live.py, customers/views_live.py).
urlpatterns += [
    path("<int:customer_id>/live/notes-tasks/", views_live.customer_live_notes_tasks, name="customer_live_notes_tasks"),
    path("<int:customer_id>/live/health/", views_live.customer_live_health, name="customer_live_health"),
]
