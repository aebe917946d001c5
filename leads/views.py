"""Lead pages and their HTMX fragments: the kanban board, a column's "load more", moves, the lead page with its
history and activities, the create/edit modal (the list is in views_lists.py, pipeline settings in
views_pipelines.py). Each view parses input, calls a service or selector, renders."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.forms import CsvImportForm, add_service_errors
from core.htmx import hx_redirect, modal_done, render_modal, render_partial
from core.realtime import topics_query

from . import imports, live, panels, selectors, services
from .forms import LeadActivityForm, LeadForm, LeadMoveForm
from .models import Lead, LeadActivity, Pipeline, Stage

BOARD_TEMPLATE = "leads/lead_board.html"
DETAIL_TEMPLATE = "leads/lead_detail.html"
MOVE_TEMPLATE = "leads/lead_move.html"
FORM_TEMPLATE = "leads/lead_form.html"


def _lead_or_404(lead_id: int) -> Lead:
    try:
        return selectors.lead_get(lead_id=lead_id)
    except Lead.DoesNotExist:
        raise Http404("No such lead in this workspace.") from None


def _stage_or_404(stage_id: int) -> Stage:
    try:
        return selectors.stage_get(stage_id=stage_id)
    except Stage.DoesNotExist:
        raise Http404("No such stage in this workspace.") from None


# --- Board --------------------------------------------------------------------------------------


@require_GET
@capability_required("leads.view")
def lead_board(request: HttpRequest) -> HttpResponse:
    pipeline = selectors.pipeline_default()
    return _board(request, pipeline)


@require_GET
@capability_required("leads.view")
def pipeline_board(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    try:
        pipeline = selectors.pipeline_get(pipeline_id=pipeline_id)
    except Pipeline.DoesNotExist:
        raise Http404("No such pipeline in this workspace.") from None
    return _board(request, pipeline)


def _board(request: HttpRequest, pipeline: Pipeline | None) -> HttpResponse:
    context = {
        "pipeline": pipeline,
        "pipelines": selectors.pipeline_list(),
        "board": selectors.lead_board(pipeline=pipeline) if pipeline is not None else None,
        "can_edit": user_can(request.user, "leads.edit"),
        "can_manage": user_can(request.user, "leads.manage"),
    }
    if pipeline is not None:
        context["live_topics"] = topics_query(live.board_topic(pipeline.pk), user_id=request.user.pk)
    return render(request, BOARD_TEMPLATE, context)


@require_GET
@capability_required("leads.view")
def stage_cards(request: HttpRequest, stage_id: int) -> HttpResponse:
    """The next cards of one column ("load more"): they replace the button that asked for them."""
    stage = _stage_or_404(stage_id)
    page = selectors.lead_column_page(stage=stage, cursor=request.GET.get("cursor"))
    return render_partial(request, BOARD_TEMPLATE, "column-more", {"stage": stage, "page": page})


# --- Moves --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("leads.edit")
def lead_move(request: HttpRequest, lead_id: int) -> HttpResponse:
    """POST stage, position (0 = top) and, for a lost stage, lost_reason. GET (or a refused POST) is the modal."""
    try:
        lead = selectors.lead_for_move(lead_id=lead_id)  # a drag's request: the move reads the rest
    except Lead.DoesNotExist:
        raise Http404("No such lead in this workspace.") from None
    data = request.POST if request.method == "POST" else None
    form = LeadMoveForm(data, lead=lead, initial={"stage": request.GET.get("stage") or lead.stage_id})
    if request.method == "POST" and form.is_valid():
        stage = form.cleaned_data["stage"]
        try:
            moved_lead = services.lead_move(
                lead=lead,
                stage=stage,
                position=form.cleaned_data["position"] or 0,
                actor=request.user,
                lost_reason=form.cleaned_data["lost_reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # Rendered once for the push at commit; rendered here only when the push did not run (yet).
            moved = getattr(moved_lead, "live_html", None) or live.moved_html(
                lead_id=lead.pk, stages=_distinct([lead.stage, stage])
            )
            if request.htmx:
                return modal_done(moved)
            messages.success(request, f"Moved {lead.title} to {stage.name}.")
            return redirect("leads:lead_detail", lead_id=lead.pk)
    if request.GET.get("position", "").isdigit():
        form.initial["position"] = int(request.GET["position"])
    response = render_modal(request, MOVE_TEMPLATE, {"form": form, "lead": lead})
    if request.htmx and request.method == "POST" and not form.is_valid():
        # A drag posts without a target: the refusal (say, no lost reason) opens as the modal.
        return retarget(reswap(response, "innerHTML"), "#modal-body")
    return response


def _distinct(stages: list[Stage]) -> list[Stage]:
    return list({stage.pk: stage for stage in stages}.values())


# --- Lead page, create, edit --------------------------------------------------------------------


@require_GET
@capability_required("leads.view")
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead_or_404(lead_id)
    context = {
        "lead": lead,
        "can_edit": user_can(request.user, "leads.edit"),
        "activity_form": LeadActivityForm(auto_id="activity_%s"),
        "lead_panels": panels.lead_panels(lead_id=lead.pk, user=request.user),
    }
    return render(request, DETAIL_TEMPLATE, context)


@require_http_methods(["GET", "POST"])
@capability_required("leads.edit")
def lead_create(request: HttpRequest) -> HttpResponse:
    form = LeadForm(request.POST if request.method == "POST" else None)
    if request.method == "GET":
        form.prefill(request.GET)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_create(actor=request.user, stage=form.cleaned_data.get("stage"), **form.service_data())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Added the lead {lead.title}.")
            if request.htmx and request.POST.get("from") == "board":
                return modal_done(live.added_html(lead_id=lead.pk))
            return hx_redirect(request, reverse("leads:lead_detail", args=[lead.pk]))
    return render_modal(request, FORM_TEMPLATE, {"form": form, "from_board": request.GET.get("from") == "board"})


@require_http_methods(["GET", "POST"])
@capability_required("leads.edit")
def lead_update(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead_or_404(lead_id)
    form = LeadForm(request.POST if request.method == "POST" else None, instance=lead)
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_update(lead=lead, actor=request.user, data=form.service_data())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved {form.cleaned_data['title']}.")
            return hx_redirect(request, reverse("leads:lead_detail", args=[lead.pk]))
    return render_modal(request, FORM_TEMPLATE, {"form": form, "lead": lead})


# --- Activities ---------------------------------------------------------------------------------


@require_POST
@capability_required("leads.edit")
def activity_create(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead_or_404(lead_id)
    form = LeadActivityForm(request.POST, auto_id="activity_%s")
    if form.is_valid():
        try:
            services.lead_activity_create(lead=lead, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            form = LeadActivityForm(auto_id="activity_%s")
    return _activities(request, lead.pk, form)


@require_POST
@capability_required("leads.edit")
def activity_complete(request: HttpRequest, activity_id: int) -> HttpResponse:
    try:
        activity = selectors.activity_get(activity_id=activity_id)
    except LeadActivity.DoesNotExist:
        raise Http404("No such activity in this workspace.") from None
    services.lead_activity_complete(activity=activity, actor=request.user, done=request.POST.get("done") != "0")
    return _activities(request, activity.lead_id, LeadActivityForm(auto_id="activity_%s"))


def _activities(request: HttpRequest, lead_id: int, form: LeadActivityForm) -> HttpResponse:
    context = {"lead": selectors.lead_get(lead_id=lead_id), "can_edit": True, "activity_form": form}
    if request.htmx:
        return render_partial(request, DETAIL_TEMPLATE, "lead-activities", context)
    return redirect("leads:lead_detail", lead_id=lead_id)


# The list and its saved views: leads/views_lists.py.


# --- CSV import ---------------------------------------------------------------------------------

IMPORT_TEMPLATE = "leads/lead_import.html"
IMPORT_EXAMPLE = (
    "title,company,company_domain,contact_name,contact_email,value,currency,stage,owner_email,source,tags\n"
    'Support seats,Acme Inc.,acme.com,Jane Doe,jane@acme.com,12000,USD,Qualified,dana@example.com,referral,"emea"\n'
)


@require_http_methods(["GET", "POST"])
@capability_required("leads.edit")
def lead_import(request: HttpRequest) -> HttpResponse:
    """Leads from a CSV file, with the row-by-row report of customers' import (leads/imports.py)."""
    form = CsvImportForm(request.POST or None, request.FILES or None)
    context = {
        "form": form,
        "columns": imports.LEAD_COLUMNS.known,
        "example": IMPORT_EXAMPLE,
        "max_bytes": settings.CSV_IMPORT_MAX_BYTES,
    }
    if request.method != "POST" or not form.is_valid():
        return render(request, IMPORT_TEMPLATE, context)
    try:
        result = imports.leads_import_csv(
            file=form.cleaned_data["file"], actor=request.user, mode=form.cleaned_data["mode"]
        )
    except ValidationError as error:
        form.add_error("file", error)
        return render(request, IMPORT_TEMPLATE, context, status=413 if error.code == "too_big" else 200)
    if result.created and not result.errors:
        messages.success(request, f"Imported {result.created} lead{'s' if result.created != 1 else ''}.")
        return redirect("leads:lead_list")
    return render(request, IMPORT_TEMPLATE, {**context, "result": result})
