"""The members tab of the People section (/people/), named inside config.urls.people's `people` namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.team, name="members"),
]
