"""URLs of the public site (localhost): landing, workspace sign-up, platform staff sign-in and admin, health."""

from django.contrib import admin
from django.urls import include, path

from accounts.admin_site import platform_admin_login
from core.views import favicon, healthz

urlpatterns = [
    path("", include("tenants.urls")),
    # Platform staff sign in (with lockout and two-factor) and enrol their authenticator app here.
    path("accounts/", include("allauth.urls")),
    # Ahead of admin.site.urls: the admin's own login form would bypass allauth's lockout and 2FA.
    path("admin/login/", platform_admin_login),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
]

# Styled pages for people, the API's JSON error body under /api/ (core.error_views).
handler403 = "core.error_views.error_403"
handler404 = "core.error_views.error_404"
handler500 = "core.error_views.error_500"
