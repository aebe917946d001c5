"""The automation pages (owners and admins: automation.manage): the rule list with enable toggles and order, the
editor (HTMX rows, type-aware inputs, template library, dry run), each rule's run log and versions."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import capability_required
from core.htmx import hx_redirect, render_partial

from . import builder, selectors, services
from .compiled import compile_rule
from .engine import rule_dry_run
from .library import RULE_TEMPLATES
from .models import Rule, RuleVersion

CAPABILITY = "automation.manage"
EDITOR = "automation/rule_form.html"
DRY_RUN_DEFAULT = 50


def _rule(rule_id: int) -> Rule:
    try:
        return selectors.rule_get(rule_id=rule_id)
    except Rule.DoesNotExist as error:
        raise Http404("No such rule.") from error


@capability_required(CAPABILITY)
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "automation/rule_list.html", {"rules": selectors.rule_list(), "templates": RULE_TEMPLATES})


def _rule_data(rule: Rule) -> dict:
    return {
        "name": rule.name,
        "description": rule.description,
        "trigger": rule.trigger,
        "conditions": rule.conditions or {"all": [], "any": []},
        "actions": rule.actions,
        "timer": rule.timer,
    }


def _editor(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    errors: list[str] = []
    dry_run = None
    if request.method == "POST":
        data = builder.data_from_post(request.POST)
        edit = request.POST.get("edit", "")
        if edit == "save":
            try:
                if rule is None:
                    rule = services.rule_create(data=builder.without_blank_rows(data), actor=request.user)
                else:
                    services.rule_update(rule=rule, data=builder.without_blank_rows(data), actor=request.user)
            except ValidationError as error:
                errors = error.messages
            else:
                return hx_redirect(request, reverse("automation:rule_edit", args=[rule.pk]))
        elif edit == "dry_run":
            dry_run, errors = _dry_run(request, builder.without_blank_rows(data), rule)
        else:
            data = builder.edit_apply(data, edit)
    elif rule is not None:
        data = _rule_data(rule)
    else:
        template = RULE_TEMPLATES.get(request.GET.get("template", ""))
        data = (
            json.loads(json.dumps(template))
            if template
            else {
                "name": "",
                "trigger": "ticket.created",
                "conditions": {"all": [], "any": []},
                "actions": [{"type": "", "value": ""}],
                "timer": {},
            }
        )
    editor_url = reverse("automation:rule_edit", args=[rule.pk]) if rule else reverse("automation:rule_create")
    context = {
        "rule": rule,
        "errors": errors,
        "dry_run": dry_run,
        "editor_url": editor_url,
        **builder.editor_context(data),
    }
    if getattr(request, "htmx", False) and request.method == "POST":
        return render_partial(request, EDITOR, "rule-editor", context, status=422 if errors else 200)
    return render(request, EDITOR, context, status=422 if errors else 200)


def _dry_run(request: HttpRequest, data: dict, rule: Rule | None):
    try:
        limit = max(1, min(500, int(request.POST.get("dry_run_limit") or DRY_RUN_DEFAULT)))
    except ValueError:
        limit = DRY_RUN_DEFAULT
    try:
        checked = services._clean(data)
        compiled = compile_rule(Rule(pk=rule.pk if rule else None, **checked))
    except ValidationError as error:
        return None, error.messages
    rows = rule_dry_run(compiled, limit=limit)
    return {"limit": limit, "rows": rows, "matched": [row for row in rows if row.matched]}, []


@capability_required(CAPABILITY)
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@capability_required(CAPABILITY)
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    return _editor(request, _rule(rule_id))


@capability_required(CAPABILITY)
@require_POST
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    services.rule_enable(rule=_rule(rule_id), enabled=request.POST.get("enabled") == "on", actor=request.user)
    if getattr(request, "htmx", False):
        rules = selectors.rule_list()
        return render_partial(request, "automation/rule_list.html", "rule-table", {"rules": rules})
    return redirect("automation:rule_list")


@capability_required(CAPABILITY)
@require_POST
def rule_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    services.rule_move(
        rule=_rule(rule_id), direction=-1 if request.POST.get("direction") == "up" else 1, actor=request.user
    )
    if getattr(request, "htmx", False):
        return render_partial(request, "automation/rule_list.html", "rule-table", {"rules": selectors.rule_list()})
    return redirect("automation:rule_list")


@capability_required(CAPABILITY)
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    services.rule_delete(rule=_rule(rule_id), actor=request.user)
    return redirect("automation:rule_list")


@capability_required(CAPABILITY)
def rule_runs(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _rule(rule_id)
    return render(request, "automation/rule_runs.html", {"rule": rule, "runs": selectors.rule_runs(rule=rule)})


@capability_required(CAPABILITY)
def rule_versions(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _rule(rule_id)
    return render(
        request, "automation/rule_versions.html", {"rule": rule, "versions": selectors.rule_versions(rule=rule)}
    )


@capability_required(CAPABILITY)
@require_POST
def rule_version_restore(request: HttpRequest, rule_version_id: int) -> HttpResponse:
    try:
        version = selectors.rule_version_get(version_id=rule_version_id)
    except RuleVersion.DoesNotExist as error:
        raise Http404("No such version of a rule.") from error
    rule = version.rule
    try:
        services.rule_restore(rule=rule, version=version, actor=request.user)
    except ValidationError as error:  # e.g. a team or webhook it named is gone
        messages.error(request, f"Version {version.number} cannot be restored: {' '.join(error.messages)}")
        return redirect("automation:rule_versions", rule.pk)
    messages.success(request, f"Version {version.number} is the rule again (saved as a new version).")
    return redirect("automation:rule_edit", rule.pk)
