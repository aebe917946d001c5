"""Views every schema serves: health, the site icon."""

from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe

from .health import health_report

FAVICON = Path(settings.BASE_DIR) / "static" / "favicon.ico"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@cache
def _favicon() -> bytes:
    return FAVICON.read_bytes()


# Pages link static/favicon.ico; browsers still ask for /favicon.ico where a page names none (admin, API, files).
@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_favicon(), content_type="image/x-icon")
