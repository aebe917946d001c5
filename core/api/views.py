"""Answers of the API that belong to no app: its index at /api/v1/, and the JSON 404 of an unknown path under it."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

AUTHENTICATION = "A signed-in session, or the header `Authorization: Token <key>` with a token from {token_url}."


class ApiRootApi(APIView):
    """GET /api/v1/: where the API is described, for everyone. API clients get JSON; a browser goes to the docs
    (through sign-in when signed out, as the docs are for members)."""

    schema = None  # an index, not an endpoint of the contract
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False):
        return super().perform_content_negotiation(request, force=True)  # a browser's Accept: text/html is no 406

    def get(self, request: Request) -> Response | HttpResponseRedirect:
        docs = reverse("api-docs")
        if "text/html" in request.headers.get("Accept", ""):
            return HttpResponseRedirect(docs) if request.user.is_authenticated else redirect_to_login(docs)
        return Response(
            {
                "name": "Switchboard API",
                "version": "v1",
                "docs": request.build_absolute_uri(docs),
                "schema": request.build_absolute_uri(reverse("api-schema")),
                "authentication": AUTHENTICATION.format(
                    token_url=request.build_absolute_uri(reverse("accounts:api_token"))
                ),
                "signed_in": request.user.is_authenticated,
            }
        )


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
