"""The AI models page (/settings/ai/models/): the workspace's trained classifiers and outcome models, their datasets
and versions with held-out evaluations; Train new version (with live progress), Deploy anyway, Roll back. Owners
and admins only.

While a version trains, its progress bar (`model-progress`) polls its own URL every second; when the job is done
the answer asks htmx to reload the page, which then shows the evaluation and the deploy decision.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from accounts.permissions import capability_required
from core.htmx import hx_redirect, render_partial

from .. import classifier_selectors as selectors
from .. import classifiers
from ..contracts import AIInputError
from ..models import ModelVersion

TEMPLATE = "ai/model_list.html"
CAPABILITY = "ai.configure"


def _page_url(name: str) -> str:
    return f"{reverse('ai:model_list')}?classifier={name}"


@require_GET
@capability_required(CAPABILITY)
def model_list(request: HttpRequest) -> HttpResponse:
    entries = selectors.classifier_list()
    wanted = request.GET.get("classifier") or (entries[0].name if entries else "")
    page = selectors.classifier_page(name=wanted) if wanted else None
    if wanted and page is None:
        raise Http404("There is no such classifier in this workspace.")
    context = {"entries": entries, "page": page, "chart": {"accuracy": page.chart} if page and page.chart else {}}
    return render(request, TEMPLATE, context)


@require_POST
@capability_required(CAPABILITY)
def model_train(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("classifier", "")
    try:
        version = classifiers.model_version_train_queue(name=name)
    except AIInputError as error:
        messages.error(request, str(error))
        return hx_redirect(request, _page_url(name) if name else reverse("ai:model_list"))
    messages.success(request, f"Training {version.label}: this page shows its progress.")
    return hx_redirect(request, _page_url(version.name))


@require_GET
@capability_required(CAPABILITY)
def model_version_progress(request: HttpRequest, version_id: int) -> HttpResponse:
    version = selectors.model_version_get(version_id=version_id)
    if version is None:
        raise Http404("There is no such model version in this workspace.")
    if version.status != ModelVersion.Status.TRAINING and getattr(request, "htmx", False):
        return HttpResponseClientRefresh()  # done: the whole page changes (evaluation, decision, actions)
    if getattr(request, "htmx", False):
        noun = selectors.classifier_noun(version.name)
        return render_partial(request, TEMPLATE, "model-progress", {"training": version, "noun": noun})
    return redirect(_page_url(version.name))


def _act(request: HttpRequest, version_id: int, act, done: str) -> HttpResponse:
    version = selectors.model_version_get(version_id=version_id)
    if version is None:
        raise Http404("There is no such model version in this workspace.")
    try:
        act(version)
    except AIInputError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done.format(label=version.label))
    return hx_redirect(request, _page_url(version.name))


@require_POST
@capability_required(CAPABILITY)
def model_version_deploy(request: HttpRequest, version_id: int) -> HttpResponse:
    """ "Deploy anyway": an admin's choice against the holdout's verdict, recorded as forced."""
    return _act(
        request,
        version_id,
        lambda version: classifiers.model_version_deploy(version_id=version.pk, force=True),
        "{label} is deployed (by your choice): new suggestions come from it.",
    )


@require_POST
@capability_required(CAPABILITY)
def model_version_rollback(request: HttpRequest, version_id: int) -> HttpResponse:
    return _act(
        request,
        version_id,
        lambda version: classifiers.model_version_rollback(version_id=version.pk),
        "Rolled back to {label}: new suggestions come from it.",
    )
