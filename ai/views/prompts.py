"""The prompt editor: every prompt with the version in use; per prompt a draft with a live preview against sample
data, saving as a new version, the history (activate an older version, reset to the shipped prompt) and "try it".

The `feature` URL argument is a prompt key ("summarize"), not an object id: keys that no shipped prompt has are a
404. Saving, activating and resetting go through `ai.services`, whose model signals invalidate the AI cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from core.htmx import hx_redirect, render_partial

from .. import facade, prompts, selectors, services
from ..contracts import AIInputError, AIUnavailable
from ..models import PromptOverride
from ..prompts import PromptTemplate
from ..templatetags.ai_display import feature_label

LIST_TEMPLATE = "ai/prompt_list.html"
EDIT_TEMPLATE = "ai/prompt_edit.html"
MAX_PROMPT_CHARS = 20_000
MAX_NOTE_CHARS = 200


# --- Helpers ------------------------------------------------------------------------------------


def _system_prompt_or_404(feature: str) -> PromptTemplate:
    template = prompts.system_prompt(feature)
    if template is None:
        raise Http404(f"There is no prompt called {feature!r}.")
    return template


def _as_text(template: PromptTemplate) -> str:
    """A template back in the file format the editor works in."""
    header = f"# {template.description}\n" if template.description else ""
    return f"{header}[system]\n{template.system}\n[user]\n{template.user}\n"


def _draft(request: HttpRequest) -> tuple[str, str]:
    return request.POST.get("text", ""), request.POST.get("note", "").strip()


def _draft_error(text: str, note: str = "") -> str:
    if len(text) > MAX_PROMPT_CHARS:
        return f"The prompt is {len(text):,} characters long; keep it under {MAX_PROMPT_CHARS:,}."
    if len(note) > MAX_NOTE_CHARS:
        return f"Keep the note under {MAX_NOTE_CHARS} characters."
    return ""


def _editor_context(feature: str, system: PromptTemplate, **extra: Any) -> dict[str, Any]:
    history = list(selectors.prompt_override_history(feature=feature))
    active = next((override for override in history if override.active), None)
    context = {
        "feature": feature,
        "system": system,
        "system_text": _as_text(system),
        "placeholders": [(name, prompts.SAMPLE_CONTEXT.get(name, "")) for name in sorted(system.placeholders)],
        "history": history,
        "active": active,
        "version_in_use": active.version_label if active else system.version,
        "draft": active.text if active else _as_text(system),
        "note": "",
        "max_prompt_chars": MAX_PROMPT_CHARS,
        "max_note_chars": MAX_NOTE_CHARS,
        "preview": None,
        "save_error": "",
        "tried": None,
        "sample_text": prompts.SAMPLE_CONTEXT["text"],
        "unused_reason": selectors.prompts_unused_reason(),
    }
    context.update(extra)
    return context


def _back_to_editor(request: HttpRequest, feature: str) -> HttpResponse:
    return hx_redirect(request, reverse("ai:prompt_edit", args=[feature]))


# --- Pages --------------------------------------------------------------------------------------


@require_GET
@capability_required("ai.configure")
def prompt_list(request: HttpRequest) -> HttpResponse:
    counts = selectors.prompt_override_counts()
    rows = [{"entry": entry, "saved": counts.get(entry.key, 0)} for entry in selectors.prompt_list()]
    return render(request, LIST_TEMPLATE, {"rows": rows, "unused_reason": selectors.prompts_unused_reason()})


@require_http_methods(["GET", "POST"])
@capability_required("ai.configure")
def prompt_edit(request: HttpRequest, feature: str) -> HttpResponse:
    """GET shows the editor; POST saves the draft as a new version in use, or shows it again with the problem."""
    system = _system_prompt_or_404(feature)
    if request.method == "GET":
        return render(request, EDIT_TEMPLATE, _editor_context(feature, system))
    text, note = _draft(request)
    error = _draft_error(text, note)
    if not error:
        try:
            override = services.prompt_override_save(feature=feature, text=text, author=request.user, note=note)
        except ValidationError as problem:
            error = " ".join(problem.message_dict.get("text", problem.messages))
        else:
            name = feature_label(feature)
            messages.success(request, f"Saved the {name} prompt as workspace version {override.version}; it is in use.")
            return _back_to_editor(request, feature)
    context = _editor_context(feature, system, draft=text, note=note, save_error=error)
    return render(request, EDIT_TEMPLATE, context)


@require_POST
@capability_required("ai.configure")
def prompt_preview(request: HttpRequest, feature: str) -> HttpResponse:
    """The draft rendered against sample data (nothing saved, nobody called): the `prompt-preview` fragment."""
    system = _system_prompt_or_404(feature)
    text, note = _draft(request)
    error = _draft_error(text)
    preview = services.PromptPreview("", "", "", "", (), (error,)) if error else services.prompt_preview(feature, text)
    context = _editor_context(feature, system, draft=text, note=note, preview=preview)
    if request.htmx:
        return render_partial(request, EDIT_TEMPLATE, "prompt-preview", context)
    return render(request, EDIT_TEMPLATE, context)


@require_POST
@capability_required("ai.configure")
def prompt_activate(request: HttpRequest, feature: str, version: int) -> HttpResponse:
    _system_prompt_or_404(feature)
    try:
        override = selectors.prompt_override_get(feature=feature, version=version)
    except PromptOverride.DoesNotExist:
        raise Http404(f"This workspace has no version {version} of the {feature} prompt.") from None
    try:
        services.prompt_override_activate(override=override)
    except ValidationError as problem:
        messages.error(request, " ".join(problem.message_dict.get("text", problem.messages)))
    else:
        messages.success(request, f"Workspace version {version} of {feature_label(feature)} is in use again.")
    return _back_to_editor(request, feature)


@require_POST
@capability_required("ai.configure")
def prompt_reset(request: HttpRequest, feature: str) -> HttpResponse:
    _system_prompt_or_404(feature)
    services.prompt_override_reset(feature=feature)
    messages.success(request, f"{feature_label(feature)} uses the shipped prompt again; your versions stay below.")
    return _back_to_editor(request, feature)


# --- Try it: the prompt in use, run through the facade on the sample message ----------------------


@dataclass(frozen=True)
class TryOutcome:
    output: str = ""
    result: Any = None  # the facade result, for the provenance badge
    error: str = ""
    run_id: int | None = None


SAMPLE_LABELS = {
    "billing": "invoices, payments, refunds",
    "login": "sign-in problems, passwords, 2FA",
    "bug": "errors and crashes",
}


def _summarize(text: str, user: Any) -> tuple[str, Any]:
    result = facade.summarize(text, user=user)
    return result.text, result


def _classify(text: str, user: Any) -> tuple[str, Any]:
    result = facade.classify(text, SAMPLE_LABELS, user=user)
    return f"{result.label} ({result.confidence:.0%} confident)", result


def _rewrite(text: str, user: Any) -> tuple[str, Any]:
    result = facade.rewrite(text, style="friendly", user=user)
    return result.text, result


def _sentiment(text: str, user: Any) -> tuple[str, Any]:
    result = facade.sentiment(text)
    return f"{result.label} (score {result.score:+.2f})", result


def _language(text: str, user: Any) -> tuple[str, Any]:
    result = facade.detect_language(text)
    return f"{result.name} ({result.code}), {result.confidence:.0%} confident", result


def _moderate(text: str, user: Any) -> tuple[str, Any]:
    result = facade.moderate(text)
    top = sorted(result.categories.items(), key=lambda item: -item[1])[:3]
    scores = ", ".join(f"{name} {score:.2f}" for name, score in top)
    return f"{'Flagged' if result.flagged else 'Not flagged'}{f' ({scores})' if scores else ''}", result


def _generate(feature: str) -> Callable[[str, Any], tuple[str, Any]]:
    def run(text: str, user: Any) -> tuple[str, Any]:
        result = facade.generate(feature, prompts.SAMPLE_CONTEXT | {"text": text}, user=user)
        return result.text, result

    return run


TRY_RUNNERS: dict[str, Callable[[str, Any], tuple[str, Any]]] = {
    "summarize": _summarize,
    "classify": _classify,
    "rewrite": _rewrite,
    "sentiment": _sentiment,
    "language": _language,
    "moderate": _moderate,
}


def _try(feature: str, user: Any) -> TryOutcome:
    runner = TRY_RUNNERS.get(feature) or _generate(feature)
    try:
        output, result = runner(prompts.SAMPLE_CONTEXT["text"], user)
    except AIUnavailable as error:
        return TryOutcome(error=str(error), run_id=error.run_id)
    except AIInputError as error:
        return TryOutcome(error=str(error))
    return TryOutcome(output=output, result=result, run_id=result.meta.run_id)


@require_POST
@capability_required("ai.configure")
def prompt_try(request: HttpRequest, feature: str) -> HttpResponse:
    """Runs the prompt in use (not the unsaved draft) on the sample message: the `prompt-try` fragment."""
    system = _system_prompt_or_404(feature)
    context = _editor_context(feature, system, tried=_try(feature, request.user))
    if request.htmx:
        return render_partial(request, EDIT_TEMPLATE, "prompt-try", context)
    return render(request, EDIT_TEMPLATE, context)
