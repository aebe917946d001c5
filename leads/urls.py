"""Workspace pages under /leads/."""

from django.urls import path

from . import views, views_capture, views_intelligence, views_lists, views_pipelines

app_name = "leads"
urlpatterns = [
    path("", views.lead_board, name="lead_board"),
    path("list/", views_lists.lead_list, name="lead_list"),
    path("new/", views.lead_create, name="lead_create"),
    path("import/", views.lead_import, name="lead_import"),
    path("pipelines/<int:pipeline_id>/", views.pipeline_board, name="pipeline_board"),
    path("stages/<int:stage_id>/cards/", views.stage_cards, name="stage_cards"),
    path("<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path("<int:lead_id>/edit/", views.lead_update, name="lead_update"),
    path("<int:lead_id>/move/", views.lead_move, name="lead_move"),
    path("<int:lead_id>/activities/", views.activity_create, name="activity_create"),
    path("activities/<int:activity_id>/done/", views.activity_complete, name="activity_complete"),
]

# Lead intelligence and pipeline metrics (leads/views_intelligence.py).
urlpatterns += [
    path("<int:lead_id>/intelligence/", views_intelligence.lead_intelligence, name="lead_intelligence"),
    path("pipelines/<int:pipeline_id>/metrics/", views_intelligence.pipeline_metrics, name="pipeline_metrics"),
]

# Web forms a workspace embeds on its site (leads/views_capture.py): their settings, and the public form itself.
urlpatterns += [
    path("forms/", views_capture.capture_form_list, name="capture_form_list"),
    path("forms/new/", views_capture.capture_form_create, name="capture_form_create"),
    path("forms/<int:capture_form_id>/", views_capture.capture_form_update, name="capture_form_update"),
    path("forms/<int:capture_form_id>/rotate/", views_capture.capture_form_rotate, name="capture_form_rotate"),
    path("capture/<str:key>/", views_capture.capture_embed, name="capture_embed"),
]

# Saved views of the list (leads/views_lists.py).
urlpatterns += [
    path("list/views/new/", views_lists.lead_view_create, name="lead_view_create"),
    path("list/views/<int:lead_view_id>/edit/", views_lists.lead_view_update, name="lead_view_update"),
    path("list/views/<int:lead_view_id>/delete/", views_lists.lead_view_delete, name="lead_view_delete"),
]

# Pipeline and stage settings (leads/views_pipelines.py).
urlpatterns += [
    path("settings/pipelines/", views_pipelines.pipeline_settings, name="pipeline_settings"),
    path("settings/pipelines/new/", views_pipelines.pipeline_create, name="pipeline_create"),
    path("settings/pipelines/<int:pipeline_id>/", views_pipelines.pipeline_edit, name="pipeline_edit"),
    path("settings/pipelines/<int:pipeline_id>/rename/", views_pipelines.pipeline_rename, name="pipeline_rename"),
    path("settings/pipelines/<int:pipeline_id>/archive/", views_pipelines.pipeline_archive, name="pipeline_archive"),
    path(
        "settings/pipelines/<int:pipeline_id>/default/",
        views_pipelines.pipeline_set_default,
        name="pipeline_set_default",
    ),
    path("settings/pipelines/<int:pipeline_id>/stages/new/", views_pipelines.stage_create, name="stage_create"),
    path("settings/pipelines/<int:pipeline_id>/stages/order/", views_pipelines.stage_reorder, name="stage_reorder"),
    path("settings/stages/<int:stage_id>/edit/", views_pipelines.stage_update, name="stage_update"),
    path("settings/stages/<int:stage_id>/move/", views_pipelines.stage_move, name="stage_move"),
    path("settings/stages/<int:stage_id>/delete/", views_pipelines.stage_delete, name="stage_delete"),
]
