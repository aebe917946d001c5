"""Workspace pages under /quotes/: the list, the builder and its fragments, sending and PDFs, revisions, the catalog,
the branding settings."""

from django.urls import path

from . import views, views_catalog, views_copilot, views_send, views_settings

app_name = "quotes"
urlpatterns = [
    path("", views.quote_list, name="quote_list"),
    path("new/", views.quote_create, name="quote_create"),
    path("settings/", views_settings.quote_settings, name="quote_settings"),
    path("<int:quote_id>/", views.quote_detail, name="quote_detail"),
    path("<int:quote_id>/edit/", views.quote_update, name="quote_update"),
    path("<int:quote_id>/status/", views.quote_status, name="quote_status"),
    path("<int:quote_id>/lines/", views.line_add, name="line_add"),
    path("<int:quote_id>/lines/order/", views.lines_reorder, name="lines_reorder"),
    path("<int:quote_id>/products/", views.product_search, name="product_search"),
    path("<int:quote_id>/copilot/", views_copilot.copilot_panel, name="copilot_panel"),
    path("<int:quote_id>/copilot/add/", views_copilot.copilot_add, name="copilot_add"),
    path("<int:quote_id>/copilot/use/", views_copilot.copilot_use, name="copilot_use"),
    path("<int:quote_id>/copilot/feedback/", views_copilot.copilot_feedback, name="copilot_feedback"),
    path("<int:quote_id>/send/", views_send.quote_send, name="quote_send"),
    path("<int:quote_id>/pdf/", views_send.quote_pdf, name="quote_pdf"),
    path("revisions/<int:revision_id>/", views.quote_revision, name="quote_revision"),
    path("revisions/<int:revision_id>/pdf/", views_send.revision_pdf, name="revision_pdf"),
    path("lines/<int:line_id>/", views.line_update, name="line_update"),
    path("lines/<int:line_id>/remove/", views.line_remove, name="line_remove"),
    path("lines/<int:line_id>/move/", views.line_move, name="line_move"),
    path("catalog/", views_catalog.product_list, name="product_list"),
    path("catalog/new/", views_catalog.product_create, name="product_create"),
    path("catalog/import/", views_catalog.catalog_import, name="catalog_import"),
    path("catalog/export/", views_catalog.catalog_export, name="catalog_export"),
    path("catalog/<int:product_id>/", views_catalog.product_update, name="product_update"),
]
