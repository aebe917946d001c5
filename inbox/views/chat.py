"""The web chat's HTTP side: the widget script and its JSON endpoints (public, cross-origin: every call names the
widget's public key and must come from one of the workspace's allowed origins, which alone get CORS headers),
the agent's typing signal, and the admins' settings page with the embed snippet and identity secret.

Public routes are listed in PUBLIC_ROUTES of config/tests/test_authorization.py. Abuse: per-IP rate limits in the
cache (failing open if the cache is down), sizes checked, and every text the widget shows is set as text, never HTML.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache as memoize
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from core.client_ip import client_ip
from core.forms import add_service_errors
from core.rate_limit import over_limit

from ..chat_forms import ChatWidgetForm
from ..models import ChatWidget
from ..selectors import chat as selectors
from ..services import chat as services

SETTINGS_TEMPLATE = "inbox/chat_settings.html"
SETTINGS_CAPABILITY = "helpdesk.configure"
WIDGET_SCRIPT = "inbox/chat/widget.js"
MAX_JSON_BYTES = 16_000
MINUTE, HOUR = 60, 3600
# (requests, seconds) per client address and action.
LIMITS = {
    "config": (60, MINUTE),
    "session": (20, HOUR),
    "suggest": (60, MINUTE),
    "deflection": (30, HOUR),
    "offline": (5, HOUR),
}
PublicView = Callable[[HttpRequest, ChatWidget, str], HttpResponse]


# --- Helpers ------------------------------------------------------------------------------------


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _over_limit(request: HttpRequest, action: str) -> bool:
    return over_limit(f"chat:limit:{action}:{client_ip(request)}", *LIMITS[action])


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


def _public(action: str) -> Callable[[PublicView], Callable[[HttpRequest], HttpResponse]]:
    """A cross-origin endpoint of the widget named by ?key=: answers the CORS preflight, refuses other origins (403),
    counts the rate limit (429)."""

    def decorate(view: PublicView) -> Callable[[HttpRequest], HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            widget = selectors.widget_for_key(request.GET.get("key"))
            if widget is None:
                return _error("No chat widget with this key is switched on.", 404)
            origin = request.headers.get("Origin", "")
            if not selectors.widget_origin_allowed(widget, origin):
                return _error("This site is not allowed to use this chat widget.", 403)
            origin = selectors.origin_normalize(origin)
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                response["Access-Control-Allow-Methods"] = "GET, POST"
                response["Access-Control-Allow-Headers"] = "Content-Type"
                response["Access-Control-Max-Age"] = "600"
                return _cors(response, origin)
            if _over_limit(request, action):
                response = _error("Too many requests: try again in a little while.", 429)
                response["Retry-After"] = str(LIMITS[action][1])
                return _cors(response, origin)
            return _cors(view(request, widget, origin), origin)

        return wrapper

    return decorate


def _payload(request: HttpRequest) -> dict | None:
    if len(request.body) > MAX_JSON_BYTES:
        return None
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _text(data: dict, name: str) -> str:
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def _invalid(error: ValidationError) -> JsonResponse:
    fields = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    return JsonResponse(
        {"error": " ".join(text for texts in fields.values() for text in texts), "fields": fields}, status=400
    )


# --- The widget ---------------------------------------------------------------------------------


@memoize
def _script() -> bytes:
    path = finders.find(WIDGET_SCRIPT) or str(Path(settings.STATIC_ROOT, WIDGET_SCRIPT))
    return Path(path).read_bytes()


@require_GET
def widget_script(request: HttpRequest) -> HttpResponse:
    """The embeddable script (static, the same for every workspace: the tag's data-key says whose widget it is)."""
    response = HttpResponse(_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_http_methods(["GET", "OPTIONS"])
@_public("config")
def widget_config(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponse:
    return JsonResponse(
        {
            "greeting": widget.greeting,
            "colour": widget.colour,
            "prechat_form": widget.prechat_form,
            "online": selectors.agents_online(),
        }
    )


@require_http_methods(["POST", "OPTIONS"])
@_public("session")
def session_start(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponse:
    """A new conversation (pre-chat form, or a signed-in visitor's email + user_hash): its token, shown once."""
    data = _payload(request)
    if data is None:
        return _error("Send a JSON object of at most 16 KB.", 400)
    try:
        conversation, token = services.conversation_start(
            widget=widget,
            origin=origin,
            name=_text(data, "name"),
            email=_text(data, "email"),
            user_hash=_text(data, "user_hash"),
        )
    except ValidationError as error:
        if "user_hash" in getattr(error, "error_dict", {}):
            return _error(" ".join(error.message_dict["user_hash"]), 403)
        return _invalid(error)
    return JsonResponse(
        {"token": token, "name": conversation.name, "email": conversation.email, "identified": conversation.identified},
        status=201,
    )


@require_http_methods(["GET", "OPTIONS"])
@_public("suggest")
def articles_suggest(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponse:
    query = request.GET.get("q", "")[: services.MAX_QUERY]
    articles = [
        {"id": found.id, "title": found.title, "url": request.build_absolute_uri(found.path), "excerpt": found.excerpt}
        for found in selectors.articles_suggest(query)
    ]
    return JsonResponse({"articles": articles})


@require_http_methods(["POST", "OPTIONS"])
@_public("deflection")
def deflection_record(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponse:
    """The visitor said whether the offered articles answered their question."""
    data = _payload(request)
    if data is None:
        return _error("Send a JSON object of at most 16 KB.", 400)
    try:
        services.deflection_record(
            widget=widget,
            conversation=selectors.conversation_for_token(widget, data.get("token")),
            query=data.get("query"),
            article_ids=data.get("article_ids"),
            helped=data.get("helped"),
        )
    except ValidationError as error:
        return _invalid(error)
    return JsonResponse({"recorded": True}, status=201)


@require_http_methods(["POST", "OPTIONS"])
@_public("offline")
def offline_message(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponse:
    """No agent online: the visitor's question and email; the answer goes by email."""
    data = _payload(request)
    if data is None:
        return _error("Send a JSON object of at most 16 KB.", 400)
    try:
        services.conversation_offline(
            widget=widget,
            origin=origin,
            name=_text(data, "name"),
            email=_text(data, "email"),
            body=data.get("body"),
            conversation=selectors.conversation_for_token(widget, data.get("token")),
        )
    except ValidationError as error:
        return _invalid(error)
    return JsonResponse({"received": True}, status=201)


# --- Agents -------------------------------------------------------------------------------------


@require_POST
@capability_required("tickets.edit")
def agent_typing(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The agent is writing a reply on a ticket (static/inbox/chat/agent.js, throttled): if a visitor chats on it, they
    see it. 404 for a ticket that does not exist here; nothing to tell (no chat) is no error."""
    if not selectors.ticket_exists(ticket_id):
        return HttpResponse("No such ticket.", status=404, content_type="text/plain")
    services.agent_typing(ticket_id=ticket_id, name=request.user.get_full_name())
    return HttpResponse(status=204)


# --- Settings -----------------------------------------------------------------------------------


def _settings_page(request: HttpRequest, widget: ChatWidget, form: ChatWidgetForm, **extra) -> HttpResponse:
    context = {
        "widget": widget,
        "form": form,
        "script_url": request.build_absolute_uri("/chat/widget.js"),
        "counts": selectors.deflection_counts(),
        **extra,
    }
    return render(request, SETTINGS_TEMPLATE, context)


@require_http_methods(["GET", "POST"])
@capability_required(SETTINGS_CAPABILITY)
def chat_settings(request: HttpRequest) -> HttpResponse:
    widget = services.widget_ensure()
    form = ChatWidgetForm(request.POST or None, instance=ChatWidget.objects.get(pk=widget.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.widget_update(widget=widget, **{name: form.cleaned_data[name] for name in form.Meta.fields})
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved the chat widget.")
            return redirect("chat_settings:settings")
    return _settings_page(request, widget, form)


@require_POST
@capability_required(SETTINGS_CAPABILITY)
def chat_secret_rotate(request: HttpRequest) -> HttpResponse:
    """A new identity secret, shown on this response only (never stored in clear, never shown again)."""
    widget = services.widget_ensure()
    secret = services.widget_secret_rotate(widget=widget)
    return _settings_page(request, widget, ChatWidgetForm(instance=widget), new_secret=secret)
