"""URLs of the public site (localhost): landing, workspace sign-up, platform admin, health."""

from django.contrib import admin
from django.urls import include, path

from core.views import healthz

urlpatterns = [
    path("", include("tenants.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]

# Styled pages for people, the API's JSON error body under /api/ (core.error_views).
handler403 = "core.error_views.error_403"
handler404 = "core.error_views.error_404"
handler500 = "core.error_views.error_500"
