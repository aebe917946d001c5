"""Helpdesk configuration: SLA policies, teams, skills, business hours, categories (/settings/helpdesk/).
The teams and skills lists are pages of People (config/urls/people.py); their old addresses send people there."""

from django.urls import path
from django.views.generic import RedirectView

from accounts.permissions import capability_required

from ..views import helpdesk_settings as views


def _to_people(page: str):
    return RedirectView.as_view(pattern_name=f"people:{page}", permanent=True, query_string=True)


app_name = "helpdesk_settings"
urlpatterns = [
    path("", views.general, name="general"),
    path("sla/", views.policy_list, name="policy_list"),
    path("sla/new/", views.policy_create, name="policy_create"),
    path("sla/<int:policy_id>/edit/", views.policy_update, name="policy_update"),
    path("sla/<int:policy_id>/delete/", views.policy_delete, name="policy_delete"),
    path("sla/<int:policy_id>/up/", views.policy_move_up, name="policy_move_up"),
    path("sla/<int:policy_id>/down/", views.policy_move_down, name="policy_move_down"),
    path("teams/", capability_required(views.CAPABILITY)(_to_people("teams")), name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:team_id>/edit/", views.team_update, name="team_update"),
    path("teams/<int:team_id>/delete/", views.team_delete, name="team_delete"),
    path("agents/", capability_required(views.CAPABILITY)(_to_people("skills")), name="agent_list"),
    path("agents/<int:user_id>/edit/", views.agent_update, name="agent_update"),
    path("skills/new/", views.skill_create, name="skill_create"),
    path("skills/<int:skill_id>/delete/", views.skill_delete, name="skill_delete"),
    path("calendars/", views.calendar_list, name="calendar_list"),
    path("calendars/new/", views.calendar_create, name="calendar_create"),
    path("calendars/<int:calendar_id>/edit/", views.calendar_update, name="calendar_update"),
    path("calendars/<int:calendar_id>/delete/", views.calendar_delete, name="calendar_delete"),
    path("categories/", views.category_list, name="category_list"),
    path("categories/new/", views.category_create, name="category_create"),
    path("categories/<int:category_id>/edit/", views.category_update, name="category_update"),
    path("categories/<int:category_id>/delete/", views.category_delete, name="category_delete"),
]
