"""The HTMX kit every app shares: partial rendering, fragment detection, modal forms, HX-aware redirects, messages
as OOB toasts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

MODAL_PARTIAL = "modal-body"
MODAL_CLOSE_EVENT = "modal:close"


def render_partial(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """Renders `{% partialdef partial %}` of `template`; the partial name equals the DOM id it replaces."""
    html = render_to_string(f"{template}#{partial}", context or {}, request=request)
    return HttpResponse(html, status=status)


def wants_fragment(request: HttpRequest, target: str) -> bool:
    """An HTMX request aimed at `target`; history restores (htmx 2 sends them as HTMX requests) get the page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def render_modal(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A modal form: its `modal-body` partial for HTMX (into #modal-body), or a page of its own without JavaScript."""
    if getattr(request, "htmx", False):
        return render_partial(request, template, MODAL_PARTIAL, context)
    return render(request, template, context)


def modal_done(html: str = "") -> HttpResponse:
    """Closes the modal; `html` holds out-of-band updates. Retargeted to <body> with swap "none", so no afterSwap
    on #modal-body re-opens the modal while it closes."""
    response = HttpResponse(html)
    response["HX-Trigger"] = MODAL_CLOSE_EVENT
    return retarget(reswap(response, "none"), "body")


def hx_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A full-page redirect that works for both plain and HTMX requests."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def toast_html(request: HttpRequest, text: str, level: str = "success") -> str:
    return render_to_string("components/toast.html", {"text": text, "level": level}, request=request)


class HtmxResponseMiddleware:
    """Vary on HX-Request (a page and its fragment share a URL) and flush messages as OOB toasts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False):
            return response
        patch_vary_headers(response, ("HX-Request",))
        is_html = response.get("Content-Type", "").startswith("text/html")
        # A client-side redirect leaves the page: its messages belong to the page it lands on.
        redirecting = any(response.has_header(header) for header in ("HX-Redirect", "HX-Location", "HX-Refresh"))
        swaps_in_place = response.status_code < 300 and not request.htmx.boosted and not redirecting
        if is_html and swaps_in_place and not response.streaming:
            pending = list(messages.get_messages(request))
            if pending:
                toasts = "".join(toast_html(request, str(m), _level(m)) for m in pending)
                response.content += f'<div id="toasts" hx-swap-oob="beforeend">{toasts}</div>'.encode()
        return response


def _level(message) -> str:
    return {"error": "danger", "debug": "secondary"}.get(
        message.tags.split()[-1] if message.tags else "", message.tags or "info"
    )
