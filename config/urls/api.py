"""The per-workspace REST API under /api/v1/ and its OpenAPI schema and docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api.views import ApiRootApi, UnknownEndpointApi

urlpatterns = [
    path("", ApiRootApi.as_view(), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("accounts.api.urls")),
    path("", include("customers.api.urls")),
    path("", include("helpdesk.api.urls")),
    path("", include("ai.api.urls")),
    path("", include("inbox.api.urls")),
    path("", include("leads.api.urls")),
    path("", include("quotes.api.urls")),
    # Last: any other path under /api/v1/ (an id that is not a number, a typo) answers the API's JSON 404.
    re_path(r"^(?P<path>.+)$", UnknownEndpointApi.as_view(), name="api-unknown"),
]
