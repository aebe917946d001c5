"""Pipeline settings for sales managers (`leads.manage`), outside the Django admin: add, rename, archive and pick
the default pipeline; add, rename, reorder (drag or the keyboard's up/down buttons) and delete stages, with each
stage's kind and win probability. Each view parses input, calls one pipeline_*/stage_* service, renders.

Stage forms answer with the #stage-list partial (errors on the stage that had them); without JavaScript every
form posts and comes back to the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from core.forms import add_service_errors
from core.htmx import hx_redirect, render_modal, render_partial

from . import selectors, services
from .forms_pipelines import PipelineForm, StageDeleteForm, StageForm, stage_ids
from .models import Pipeline, Stage

SETTINGS_TEMPLATE = "leads/pipeline_settings.html"
EDIT_TEMPLATE = "leads/pipeline_edit.html"
STAGE_DELETE_TEMPLATE = "leads/stage_confirm_delete.html"
CAPABILITY = "leads.manage"


def _pipeline_or_404(pipeline_id: int) -> Pipeline:
    try:
        return selectors.pipeline_with_stages(pipeline_id=pipeline_id)
    except Pipeline.DoesNotExist:
        raise Http404("No such pipeline in this workspace.") from None


def _stage_or_404(stage_id: int) -> Stage:
    try:
        return selectors.stage_get(stage_id=stage_id)
    except Stage.DoesNotExist:
        raise Http404("No such stage in this workspace.") from None


def _edit_url(pipeline_id: int) -> str:
    return reverse("leads:pipeline_edit", args=[pipeline_id])


def _stage_forms(pipeline: Pipeline, failed: dict[int, StageForm] | None = None) -> list[tuple[Stage, StageForm]]:
    failed = failed or {}
    return [
        (
            stage,
            failed.get(stage.pk)
            or StageForm(
                initial={"name": stage.name, "kind": stage.kind, "probability": stage.probability},
                prefix=f"stage-{stage.pk}",
            ),
        )
        for stage in pipeline.stages.all()
    ]


def _edit_context(pipeline: Pipeline, **extra: Any) -> dict[str, Any]:
    return {
        "pipeline": pipeline,
        "rename_form": extra.pop("rename_form", None) or PipelineForm(initial={"name": pipeline.name}),
        "stage_forms": _stage_forms(pipeline, extra.pop("failed", None)),
        "new_stage_form": extra.pop("new_stage_form", None) or StageForm(prefix="new"),
        **extra,
    }


def _stage_list(request: HttpRequest, pipeline_id: int, **extra: Any) -> HttpResponse:
    """The stage list as it is now: the partial for HTMX, the page otherwise (after a successful write)."""
    pipeline = _pipeline_or_404(pipeline_id)
    context = _edit_context(pipeline, **extra)
    if request.htmx:
        return render_partial(request, EDIT_TEMPLATE, "stage-list", context)
    if extra.get("error") or extra.get("failed") or extra.get("new_stage_form"):
        return render(request, EDIT_TEMPLATE, context)
    return redirect(_edit_url(pipeline_id))


# --- Pipelines ----------------------------------------------------------------------------------


@require_GET
@capability_required(CAPABILITY)
def pipeline_settings(request: HttpRequest) -> HttpResponse:
    context = {"pipelines": selectors.pipeline_settings_list(), "form": PipelineForm()}
    return render(request, SETTINGS_TEMPLATE, context)


@require_POST
@capability_required(CAPABILITY)
def pipeline_create(request: HttpRequest) -> HttpResponse:
    """A new pipeline with the usual stages, to shape on its own page."""
    form = PipelineForm(request.POST)
    if form.is_valid():
        try:
            pipeline = services.pipeline_create(name=form.cleaned_data["name"], is_default=False)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Added the pipeline {pipeline.name}.")
            return hx_redirect(request, _edit_url(pipeline.pk))
    context = {"pipelines": selectors.pipeline_settings_list(), "form": form}
    return render(request, SETTINGS_TEMPLATE, context)


@require_GET
@capability_required(CAPABILITY)
def pipeline_edit(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    return render(request, EDIT_TEMPLATE, _edit_context(_pipeline_or_404(pipeline_id)))


@require_POST
@capability_required(CAPABILITY)
def pipeline_rename(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = _pipeline_or_404(pipeline_id)
    form = PipelineForm(request.POST)
    if form.is_valid():
        try:
            services.pipeline_rename(pipeline=pipeline, name=form.cleaned_data["name"], actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Renamed the pipeline to {pipeline.name}.")
            return hx_redirect(request, _edit_url(pipeline.pk))
    return render(request, EDIT_TEMPLATE, _edit_context(pipeline, rename_form=form))


@require_POST
@capability_required(CAPABILITY)
def pipeline_archive(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    """POST archived=1 to archive, archived=0 to restore."""
    pipeline = _pipeline_or_404(pipeline_id)
    archived = request.POST.get("archived", "1") != "0"
    try:
        services.pipeline_archive(pipeline=pipeline, actor=request.user, archived=archived)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{'Archived' if archived else 'Restored'} the pipeline {pipeline.name}.")
    return hx_redirect(request, _edit_url(pipeline.pk))


@require_POST
@capability_required(CAPABILITY)
def pipeline_set_default(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = _pipeline_or_404(pipeline_id)
    try:
        services.pipeline_set_default(pipeline=pipeline, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{pipeline.name} is now the default pipeline.")
    return hx_redirect(request, _edit_url(pipeline.pk))


# --- Stages -------------------------------------------------------------------------------------


@require_POST
@capability_required(CAPABILITY)
def stage_create(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = _pipeline_or_404(pipeline_id)
    form = StageForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            services.stage_create(pipeline=pipeline, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _stage_list(request, pipeline.pk)
    return _stage_list(request, pipeline.pk, new_stage_form=form)


@require_POST
@capability_required(CAPABILITY)
def stage_update(request: HttpRequest, stage_id: int) -> HttpResponse:
    stage = _stage_or_404(stage_id)
    form = StageForm(request.POST, prefix=f"stage-{stage.pk}")
    if form.is_valid():
        try:
            services.stage_update(stage=stage, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _stage_list(request, stage.pipeline_id, saved=stage.pk)
    return _stage_list(request, stage.pipeline_id, failed={stage.pk: form})


@require_POST
@capability_required(CAPABILITY)
def stage_reorder(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    """The order a drag left the list in (the `stage` inputs, top to bottom)."""
    pipeline = _pipeline_or_404(pipeline_id)
    try:
        services.stage_reorder(pipeline=pipeline, stage_ids=stage_ids(request.POST), actor=request.user)
    except ValidationError as error:
        return _stage_list(request, pipeline.pk, error=" ".join(error.messages))
    return _stage_list(request, pipeline.pk, reordered=True)


@require_POST
@capability_required(CAPABILITY)
def stage_move(request: HttpRequest, stage_id: int) -> HttpResponse:
    """One step up or down (POST offset=-1 or 1): the keyboard's and the no-JavaScript way to reorder."""
    stage = _stage_or_404(stage_id)
    offset = -1 if request.POST.get("offset") == "-1" else 1
    services.stage_move(stage=stage, offset=offset, actor=request.user)
    return _stage_list(request, stage.pipeline_id, moved=stage.pk)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def stage_delete(request: HttpRequest, stage_id: int) -> HttpResponse:
    """Delete a stage once its leads have somewhere to go: the modal asks for the stage that takes them."""
    stage = _stage_or_404(stage_id)
    lead_count = stage.leads.count()
    form = StageDeleteForm(request.POST if request.method == "POST" else None, stage=stage)
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.stage_delete(stage=stage, actor=request.user, move_to=form.cleaned_data["move_to"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            target = form.cleaned_data["move_to"]
            note = f", its {moved} lead{'s' if moved != 1 else ''} moved to {target.name}" if moved else ""
            messages.success(request, f"Deleted the stage {stage.name}{note}.")
            return hx_redirect(request, _edit_url(stage.pipeline_id))
    has_targets = form.fields["move_to"].queryset.exists()
    context = {"stage": stage, "form": form, "lead_count": lead_count, "has_targets": has_targets}
    return render_modal(request, STAGE_DELETE_TEMPLATE, context)
