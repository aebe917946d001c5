from django.urls import path

from . import views

app_name = "automation"

urlpatterns = [
    path("", views.rule_list, name="rule_list"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<int:rule_id>/move/", views.rule_move, name="rule_move"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("rules/<int:rule_id>/runs/", views.rule_runs, name="rule_runs"),
    path("rules/<int:rule_id>/versions/", views.rule_versions, name="rule_versions"),
    path(
        "versions/<int:rule_version_id>/restore/",
        views.rule_version_restore,
        name="rule_version_restore",
    ),
]
