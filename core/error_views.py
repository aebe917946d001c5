"""The 403, 404 and 500 answers of both URLconfs: styled pages for people, the API's JSON error body under /api/.

The 500 page is rendered from a standalone template without the request's context: no context processor, no
database query, nothing that may be what just failed. Django's debug page appears only when DEBUG is on
(Django itself shows it before these handlers are reached).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.views.decorators.csrf import requires_csrf_token

API_PREFIX = "/api/"
MESSAGES = {
    403: "You don’t have access to this page.",
    404: "There is nothing at this address.",
    500: "Something went wrong on our side. We have been told; please try again in a moment.",
}
CODES = {403: "permission_denied", 404: "not_found", 500: "server_error"}


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _api_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": CODES[status], "message": message}}, status=status)


def _message(exception: Exception | None, status: int) -> str:
    """What the code that refused said (our messages are written for people), else the general sentence.

    A URL that matches nothing raises Resolver404 with a dict of patterns tried: never shown.
    """
    detail = exception.args[0] if exception is not None and exception.args else None
    return detail if isinstance(detail, str) and detail else MESSAGES[status]


@requires_csrf_token
def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = _message(exception, 403)
    if _is_api(request):
        return _api_error(403, message)
    return render(request, "errors/403.html", {"message": message}, status=403)


@requires_csrf_token
def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = _message(exception, 404)
    if _is_api(request):
        return _api_error(404, message)
    return render(request, "errors/404.html", {"message": message, "path": request.path}, status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error(500, MESSAGES[500])
    return HttpResponse(get_template("errors/500.html").render(), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: usually a form left open past its session, or cookies switched off."""
    message = (
        "This form expired or your browser did not send its security cookie. "
        "Go back, reload the page and send it again (cookies must be allowed)."
    )
    if _is_api(request):
        return _api_error(403, message)
    return render(request, "errors/403.html", {"message": message}, status=403)
