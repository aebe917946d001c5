"""Refuses oversized request bodies with 413 before anything reads them."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string


class RequestSizeLimitMiddleware:
    """Django's own limits ignore uploaded files and answer 400; people deserve a 413 that says why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BYTES
        if request.path.startswith(tuple(getattr(settings, "REQUEST_SIZE_CHECKED_BY_VIEW", ()))):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return _too_large(request, length, limit)
        return self.get_response(request)


def _too_large(request: HttpRequest, length: int, limit: int) -> HttpResponse:
    message = f"This upload is {length / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB."
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "request_too_large", "message": message}}, status=413)
    html = render_to_string("errors/413.html", {"message": message}, request=request)
    return HttpResponse(html, status=413)
