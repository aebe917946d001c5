"""Helpdesk settings pages (/settings/helpdesk/): switches, SLA policies, teams, agents and skills, business hours,
categories. Owners and admins only (`helpdesk.configure`).

Modal forms as in customers/views.py: a GET returns the form's `modal-body` partial into #modal-body; an invalid
POST returns it again with errors (status 200, so htmx swaps it); a valid POST answers `HX-Trigger: modal:close`
and swaps the page's table out of band, with a toast. Without JavaScript the same URLs are pages and redirects.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from core.forms import add_service_errors
from core.htmx import modal_done, render_modal, render_partial

from ..models import HelpdeskSettings
from ..selectors import helpdesk_settings as selectors
from ..selectors.help_center import deflection_rate
from ..selectors.sla import sla_metrics_get
from ..services import helpdesk_settings as services
from ..settings_forms import (
    AgentProfileForm,
    CalendarForm,
    CategoryForm,
    HelpdeskSettingsForm,
    SkillForm,
    SLAPolicyForm,
    TeamForm,
    timezone_options,
)

CAPABILITY = "helpdesk.configure"
CONFIRM_TEMPLATE = "helpdesk/settings_confirm_delete.html"


# --- Helpers ------------------------------------------------------------------------------------


def _get_or_404(getter: Callable[..., Any], **lookup: int) -> Any:
    try:
        return getter(**lookup)
    except ObjectDoesNotExist as error:
        raise Http404("Not found in this workspace.") from error


def _saved(request: HttpRequest, text: str, page: Page) -> HttpResponse:
    messages.success(request, text)
    if not request.htmx:
        return redirect(page.url_name)
    context = {**page.context(), "oob": True}
    return modal_done(render_to_string(f"{page.template}#{page.partial}", context, request=request))


def _form_modal(
    request: HttpRequest,
    *,
    form: Any,
    save: Callable[[], str],
    template: str,
    page: Page,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """Validates `form` on POST and calls `save` (it returns the success message); otherwise shows the form."""
    if request.method == "POST" and form.is_valid():
        try:
            text = save()
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _saved(request, text, page)
    return render_modal(request, template, {"form": form, **(context or {})})


def _confirm_delete(
    request: HttpRequest, *, delete: Callable[[], str], page: Page, title: str, body: str, action: str
) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            text = delete()
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            return _saved(request, text, page)
    context = {"title": title, "body": body, "action": action, "error": error, "cancel_url": reverse(page.url_name)}
    return render_modal(request, CONFIRM_TEMPLATE, context)


class Page:
    """A settings list page: its template, the partial a save refreshes, and how to build its context."""

    def __init__(
        self, name: str, template: str, partial: str, build: Callable[[], dict[str, Any]], *, url_name: str = ""
    ) -> None:
        self.url_name = url_name or f"helpdesk_settings:{name}"
        self.template, self.partial, self.build = template, partial, build
        self.active = name

    def context(self) -> dict[str, Any]:
        return {"active": self.active, **self.build()}

    def render(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template, self.context())


POLICIES = Page(
    "policy_list",
    "helpdesk/settings_sla.html",
    "policy-table",
    lambda: {"policies": selectors.sla_policy_list()},
)
# Teams and skills are tabs of People (config/urls/people.py).
TEAMS = Page(
    "teams",
    "helpdesk/settings_teams.html",
    "team-table",
    lambda: {"teams": selectors.team_list()},
    url_name="people:teams",
)
AGENTS = Page(
    "skills",
    "helpdesk/settings_agents.html",
    "agent-table",
    lambda: {"rows": selectors.agent_rows(), "skills": selectors.skill_list()},
    url_name="people:skills",
)
CALENDARS = Page(
    "calendar_list",
    "helpdesk/settings_calendars.html",
    "calendar-table",
    lambda: {"calendars": selectors.business_calendar_list(), "default_timezone": settings.TIME_ZONE},
)
CATEGORIES = Page(
    "category_list",
    "helpdesk/settings_categories.html",
    "category-table",
    lambda: {"categories": selectors.category_list()},
)


# --- Switches -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def general(request: HttpRequest) -> HttpResponse:
    form = HelpdeskSettingsForm(request.POST or None, instance=HelpdeskSettings.current())
    if request.method == "POST" and form.is_valid():
        services.helpdesk_settings_update(data=form.service_data())
        messages.success(request, "Saved the helpdesk settings.")
        return redirect("helpdesk_settings:general")
    context = {"form": form, "active": "general", "deflection": deflection_rate(days=30)}
    return render(request, "helpdesk/settings_general.html", context)


# --- SLA policies -------------------------------------------------------------------------------


@require_GET
@capability_required(CAPABILITY)
def policy_list(request: HttpRequest) -> HttpResponse:
    context = POLICIES.context()
    context.update(metrics=sla_metrics_get(days=30), risk_model=selectors.risk_model_latest())
    return render(request, POLICIES.template, context)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def policy_create(request: HttpRequest) -> HttpResponse:
    form = SLAPolicyForm(request.POST or None)

    def save() -> str:
        policy = services.sla_policy_create(data=form.service_data())
        return f"Added the SLA policy “{policy.name}”. It is checked last; move it up if it should win earlier."

    return _form_modal(request, form=form, save=save, template="helpdesk/settings_policy_form.html", page=POLICIES)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def policy_update(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _get_or_404(selectors.sla_policy_get, policy_id=policy_id)
    form = SLAPolicyForm(request.POST or None, instance=copy.copy(policy))

    def save() -> str:
        services.sla_policy_update(policy=policy, data=form.service_data())
        return f"Saved “{form.cleaned_data['name']}”. Open tickets follow it from their next update."

    context = {"policy": policy}
    return _form_modal(
        request, form=form, save=save, template="helpdesk/settings_policy_form.html", page=POLICIES, context=context
    )


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _get_or_404(selectors.sla_policy_get, policy_id=policy_id)

    def delete() -> str:
        services.sla_policy_delete(policy=policy)
        return f"Deleted the SLA policy “{policy.name}”."

    body = "Tickets under it move to the next matching policy (or none) at their next update; their history stays."
    action = reverse("helpdesk_settings:policy_delete", args=[policy.pk])
    return _confirm_delete(
        request, delete=delete, page=POLICIES, title=f"Delete “{policy.name}”?", body=body, action=action
    )


@require_POST
@capability_required(CAPABILITY)
def policy_move_up(request: HttpRequest, policy_id: int) -> HttpResponse:
    return _policy_move(request, policy_id, "up")


@require_POST
@capability_required(CAPABILITY)
def policy_move_down(request: HttpRequest, policy_id: int) -> HttpResponse:
    return _policy_move(request, policy_id, "down")


def _policy_move(request: HttpRequest, policy_id: int, direction: str) -> HttpResponse:
    """The first matching policy wins, so its place in the list matters: one step up or down."""
    policy = _get_or_404(selectors.sla_policy_get, policy_id=policy_id)
    services.sla_policy_move(policy=policy, direction=direction)
    if request.htmx:
        return render_partial(request, POLICIES.template, POLICIES.partial, POLICIES.context())
    return redirect(POLICIES.url_name)


# --- Teams --------------------------------------------------------------------------------------


@require_GET
@capability_required(CAPABILITY)
def team_list(request: HttpRequest) -> HttpResponse:
    return TEAMS.render(request)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)

    def save() -> str:
        team = services.team_save(data=form.service_data(), members=form.cleaned_data["members"])
        return f"Added the team {team.name}."

    return _form_modal(request, form=form, save=save, template="helpdesk/settings_team_form.html", page=TEAMS)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def team_update(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _get_or_404(selectors.team_get, team_id=team_id)
    form = TeamForm(request.POST or None, instance=copy.copy(team))

    def save() -> str:
        services.team_save(team=team, data=form.service_data(), members=form.cleaned_data["members"])
        return f"Saved the team {form.cleaned_data['name']}."

    context = {"team": team}
    return _form_modal(
        request, form=form, save=save, template="helpdesk/settings_team_form.html", page=TEAMS, context=context
    )


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def team_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _get_or_404(selectors.team_get, team_id=team_id)

    def delete() -> str:
        services.team_delete(team=team)
        return f"Deleted the team {team.name}."

    body = "Its tickets stay where they are without a team; categories and policies that name it stop doing so."
    action = reverse("helpdesk_settings:team_delete", args=[team.pk])
    return _confirm_delete(request, delete=delete, page=TEAMS, title=f"Delete {team.name}?", body=body, action=action)


# --- Agents and skills --------------------------------------------------------------------------


@require_GET
@capability_required(CAPABILITY)
def agent_list(request: HttpRequest) -> HttpResponse:
    return AGENTS.render(request)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def agent_update(request: HttpRequest, user_id: int) -> HttpResponse:
    agent = _get_or_404(selectors.agent_get, user_id=user_id)
    form = AgentProfileForm(request.POST or None, instance=getattr(agent, "agent_profile", None))

    def save() -> str:
        services.agent_profile_update(user=agent, **form.service_data())
        return f"Saved {agent.get_full_name()}'s helpdesk profile."

    context = {"agent": agent}
    return _form_modal(
        request, form=form, save=save, template="helpdesk/settings_agent_form.html", page=AGENTS, context=context
    )


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def skill_create(request: HttpRequest) -> HttpResponse:
    form = SkillForm(request.POST or None)

    def save() -> str:
        skill = services.skill_create(name=form.cleaned_data["name"])
        return f"Added the skill “{skill.name}”."

    return _form_modal(request, form=form, save=save, template="helpdesk/settings_skill_form.html", page=AGENTS)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def skill_delete(request: HttpRequest, skill_id: int) -> HttpResponse:
    skill = _get_or_404(selectors.skill_get, skill_id=skill_id)

    def delete() -> str:
        services.skill_delete(skill=skill)
        return f"Deleted the skill “{skill.name}”."

    action = reverse("helpdesk_settings:skill_delete", args=[skill.pk])
    body = "Agents lose it; tickets are not affected."
    return _confirm_delete(
        request, delete=delete, page=AGENTS, title=f"Delete the skill “{skill.name}”?", body=body, action=action
    )


# --- Business calendars -------------------------------------------------------------------------


@require_GET
@capability_required(CAPABILITY)
def calendar_list(request: HttpRequest) -> HttpResponse:
    return CALENDARS.render(request)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def calendar_create(request: HttpRequest) -> HttpResponse:
    form = CalendarForm(request.POST or None)

    def save() -> str:
        calendar = services.business_calendar_save(**form.service_data())
        return f"Added the calendar {calendar.name}."

    context = {"timezones": timezone_options()}
    return _form_modal(
        request, form=form, save=save, template="helpdesk/settings_calendar_form.html", page=CALENDARS, context=context
    )


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def calendar_update(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = _get_or_404(selectors.business_calendar_get, calendar_id=calendar_id)
    form = CalendarForm(request.POST or None, calendar=calendar)

    def save() -> str:
        services.business_calendar_save(calendar=calendar, **form.service_data())
        return f"Saved the calendar {calendar.name}. Open tickets count in it from their next update."

    context = {"calendar": calendar, "timezones": timezone_options()}
    return _form_modal(
        request, form=form, save=save, template="helpdesk/settings_calendar_form.html", page=CALENDARS, context=context
    )


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def calendar_delete(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = _get_or_404(selectors.business_calendar_get, calendar_id=calendar_id)

    def delete() -> str:
        services.business_calendar_delete(calendar=calendar)
        return f"Deleted the calendar {calendar.name}."

    body = "Policies and teams that use it count in the default calendar instead."
    action = reverse("helpdesk_settings:calendar_delete", args=[calendar.pk])
    return _confirm_delete(
        request, delete=delete, page=CALENDARS, title=f"Delete {calendar.name}?", body=body, action=action
    )


# --- Categories ---------------------------------------------------------------------------------


@require_GET
@capability_required(CAPABILITY)
def category_list(request: HttpRequest) -> HttpResponse:
    return CATEGORIES.render(request)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def category_create(request: HttpRequest) -> HttpResponse:
    form = CategoryForm(request.POST or None)

    def save() -> str:
        category = services.category_save(data=form.service_data())
        return f"Added the category {category.name}."

    return _form_modal(request, form=form, save=save, template="helpdesk/settings_category_form.html", page=CATEGORIES)


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def category_update(request: HttpRequest, category_id: int) -> HttpResponse:
    category = _get_or_404(selectors.category_get, category_id=category_id)
    form = CategoryForm(request.POST or None, instance=copy.copy(category))

    def save() -> str:
        services.category_save(category=category, data=form.service_data())
        return f"Saved the category {form.cleaned_data['name']}."

    context = {"category": category}
    return _form_modal(
        request, form=form, save=save, template="helpdesk/settings_category_form.html", page=CATEGORIES, context=context
    )


@require_http_methods(["GET", "POST"])
@capability_required(CAPABILITY)
def category_delete(request: HttpRequest, category_id: int) -> HttpResponse:
    category = _get_or_404(selectors.category_get, category_id=category_id)

    def delete() -> str:
        services.category_delete(category=category)
        return f"Deleted the category {category.name}."

    body = "Its tickets keep their history and become uncategorised."
    action = reverse("helpdesk_settings:category_delete", args=[category.pk])
    return _confirm_delete(
        request, delete=delete, page=CATEGORIES, title=f"Delete {category.name}?", body=body, action=action
    )
