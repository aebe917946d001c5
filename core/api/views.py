"""Answers of the API that belong to no app: an unknown /api/v1/ path gets the API's JSON 404, not an HTML page."""

from __future__ import annotations

from django.urls import Resolver404, resolve
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView


class UnknownEndpointApi(APIView):
    """Mounted last under /api/v1/: callers are authenticated and throttled as anywhere else, then told 404."""

    schema = None  # not an endpoint of its own

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound(_explain(request))


def _explain(request: Request) -> str:
    path = request.path
    if not path.endswith("/"):
        try:
            resolve(f"{path}/", urlconf=getattr(request, "urlconf", None))
        except Resolver404:
            pass
        else:
            return f"No endpoint at {path}; API paths end with a slash: {path}/"
    return f"No endpoint at {path}. The endpoints are listed at /api/v1/docs/."
