"""Workspace URLs of the inbox under /settings/channels/, one module per area (namespace "inbox")."""

from . import cloudmail

app_name = "inbox"
urlpatterns = [
    *cloudmail.urlpatterns,
]
