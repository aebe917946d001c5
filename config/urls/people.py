"""The People section (/people/): one place for who works here. Members come from accounts, teams and agents'
skills from helpdesk; each view keeps its own app and permission, this module only gives them one address."""

from django.urls import path

from accounts import views as accounts_views
from helpdesk.views import helpdesk_settings

app_name = "people"
urlpatterns = [
    path("", accounts_views.team, name="members"),
    path("teams/", helpdesk_settings.team_list, name="teams"),
    path("skills/", helpdesk_settings.agent_list, name="skills"),
]
