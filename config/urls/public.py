"""URLs of the public site (localhost): landing, workspace sign-up, platform admin, health."""

from django.contrib import admin
from django.urls import include, path

from core.views import healthz

urlpatterns = [
    path("", include("tenants.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
