"""What a company page fetches again when a push says its notes and tasks, or its health, changed (customers.live):
each reader gets the panels rendered for their own role."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required

from .views import Subject, _capabilities, _churn_card, _customer_or_404, _health_card, _panel_response

HEALTH_TEMPLATE = "customers/_health_card.html"
CHURN_TEMPLATE = "customers/_churn.html"


@require_GET
@capability_required("customers.view")
def customer_live_notes_tasks(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The company's notes and tasks panel; its HX-Trigger reloads the timeline too."""
    return _panel_response(request, Subject(customer=_customer_or_404(customer_id)))


@require_GET
@capability_required("customers.view")
def customer_live_health(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The health card, and the churn card out of band: a recompute changes both."""
    customer = _customer_or_404(customer_id)
    context = {"customer": customer, "health": _health_card(customer), "churn": _churn_card(customer)}
    context |= _capabilities(request.user)
    health = render_to_string(HEALTH_TEMPLATE, context, request=request)
    churn = render_to_string(CHURN_TEMPLATE, {**context, "oob": True}, request=request)
    return HttpResponse(health + churn)
