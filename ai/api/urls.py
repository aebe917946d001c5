"""AI endpoints, mounted under /api/v1/: the workspace's trained model versions (read only)."""

from django.urls import path

from . import views

app_name = "ai_api"
urlpatterns = [
    path("ai/model-versions/", views.ModelVersionListApi.as_view(), name="model_version_list"),
    path("ai/model-versions/<int:version_id>/", views.ModelVersionDetailApi.as_view(), name="model_version_detail"),
]
