"""The People section (/people/): one place for who works here. Members come from accounts, teams and agents'
skills from helpdesk; each app keeps its own views and permissions, this module only gives them one namespace."""

from django.urls import include, path

app_name = "people"
urlpatterns = [
    path("", include("accounts.people_urls")),
    path("", include("helpdesk.urls.people")),
]
