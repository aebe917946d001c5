"""Workspace pages under /customers/."""

from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("new/", views.customer_create, name="customer_create"),
    path("export.csv", views.customer_export, name="customer_export"),
    path("import/", views.customer_import, name="customer_import"),
    path("import/<slug:kind>/<str:token>/", views.import_confirm, name="import_confirm"),
    path("<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("<int:customer_id>/edit/", views.customer_update, name="customer_update"),
    path("<int:customer_id>/delete/", views.customer_delete, name="customer_delete"),
    path("<int:customer_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/export.csv", views.contact_export, name="contact_export"),
    path("contacts/import/", views.contact_import, name="contact_import"),
    path("contacts/<int:contact_id>/edit/", views.contact_update, name="contact_update"),
    path("contacts/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"),
]
