"""The Django admin a workspace's owners and admins use: only this workspace's own models are registered.

Who gets in: an active user whose role may administer the workspace (`workspace.admin`: owners and admins),
and only inside a workspace schema. Access follows the role alone: `is_staff` is kept in step with it by the
services but never consulted, so no edit of that flag can lock an owner out.
What they may do: everything on the models registered here. Django's per-model permission rows are not used in
workspaces (nobody would maintain them per schema); the role decides, and every ModelAdmin registered on this
site gets that rule from `WorkspaceAdminPermissions`.

Register workspace models with `@admin.register(Model, site=workspace_admin_site)`, preferably on a
`WorkspaceModelAdmin` subclass; a plain ModelAdmin is given the permission mixin automatically.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django_tenants.utils import get_public_schema_name

from .roles import user_can


def is_workspace_administrator(request: HttpRequest) -> bool:
    return connection.schema_name != get_public_schema_name() and user_can(request.user, "workspace.admin")


def admin_login_through_allauth(request: HttpRequest, *, index: str, refusal: str) -> HttpResponse:
    """Both admins sign in on allauth's page: Django's admin form would bypass its lockout, email check and 2FA."""
    if request.user.is_authenticated:
        raise PermissionDenied(refusal)
    return redirect_to_login(url_has_allowed_next(request) or index, reverse("account_login"))


def url_has_allowed_next(request: HttpRequest) -> str | None:
    target = request.GET.get("next")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else None


@never_cache
def platform_admin_login(request: HttpRequest) -> HttpResponse:
    """/admin/login/ of the public site (routed before `admin.site.urls`): platform staff sign in through allauth."""
    return admin_login_through_allauth(
        request, index=reverse("admin:index"), refusal="The platform admin is for Switchboard staff."
    )


class WorkspaceAdminPermissions:
    """ModelAdmin mixin: a workspace administrator may view, add, change and delete; nobody else anything.

    Subclasses narrow it further by overriding a method and calling super() first. Models whose rows are never
    deleted here (people, append-only history) set `deletable = False`: their delete page is not even routed.
    """

    deletable = True

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_workspace_administrator(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_workspace_administrator(request)

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return is_workspace_administrator(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_workspace_administrator(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.deletable and is_workspace_administrator(request)

    def get_urls(self) -> list:
        urls = super().get_urls()
        if self.deletable:
            return urls
        delete = f"{self.opts.app_label}_{self.opts.model_name}_delete"
        return [url for url in urls if getattr(url, "name", None) != delete]


class WorkspaceModelAdmin(WorkspaceAdminPermissions, admin.ModelAdmin):
    pass


class WorkspaceAdminSite(AdminSite):
    site_header = "Workspace administration"
    site_title = "Workspace admin"
    index_title = "Your workspace's data"
    site_url = "/"

    def has_permission(self, request: HttpRequest) -> bool:
        return is_workspace_administrator(request)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return admin_login_through_allauth(
            request,
            index=reverse("workspace_admin:index"),
            refusal="The workspace admin is for owners and admins of this workspace.",
        )

    def password_change(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # allauth's page applies the same validators and sends the "password changed" security notice.
        return redirect("account_change_password")

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, WorkspaceAdminPermissions):
            # Without it an owner (who is not a superuser) would see an empty admin; see the module docstring.
            admin_class = type(admin_class.__name__, (WorkspaceAdminPermissions, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)


workspace_admin_site = WorkspaceAdminSite(name="workspace_admin")
