"""The Django admin a workspace's owners and admins use: only this workspace's own models are registered."""

from django.contrib.admin import AdminSite


class WorkspaceAdminSite(AdminSite):
    site_header = "Workspace administration"
    site_title = "Workspace admin"
    index_title = "Your workspace's data"


workspace_admin_site = WorkspaceAdminSite(name="workspace_admin")
