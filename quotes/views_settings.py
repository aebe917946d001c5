"""The quote branding page (/quotes/settings/): the workspace's logo and brand colour, for owners and admins."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.permissions import capability_required
from core.forms import add_service_errors

from .branding import quote_settings_get, quote_settings_update, text_colour_on
from .forms import QuoteSettingsForm

TEMPLATE = "quotes/quote_settings.html"


@require_http_methods(["GET", "POST"])
@capability_required("quotes.manage")
def quote_settings(request: HttpRequest) -> HttpResponse:
    settings = quote_settings_get()
    form = QuoteSettingsForm(
        request.POST or None, request.FILES or None, initial={"brand_colour": settings.brand_colour}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                quote_settings_update(
                    brand_colour=form.cleaned_data["brand_colour"],
                    logo=form.cleaned_data["logo"],
                    remove_logo=form.cleaned_data["remove_logo"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Saved. Quotes sent from now on use this logo and colour.")
                return redirect("quotes:quote_settings")
        status = 400
    context = {"form": form, "settings": settings, "text_colour": text_colour_on(settings.brand_colour)}
    return render(request, TEMPLATE, context, status=status)
