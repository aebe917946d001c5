"""The helpdesk's tabs of the People section (/people/teams/, /people/skills/), named inside config.urls.people's
`people` namespace."""

from django.urls import path

from ..views import helpdesk_settings

urlpatterns = [
    path("teams/", helpdesk_settings.team_list, name="teams"),
    path("skills/", helpdesk_settings.agent_list, name="skills"),
]
