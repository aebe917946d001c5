"""Platform staff's view of every workspace, on the public site's admin (localhost/admin/)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from .models import Domain, Tenant
from .services import tenant_set_status
from .views import workspace_login_url


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]


def _is_protected(tenant: Tenant) -> bool:
    """The public site and the template every workspace is cloned from keep the platform running."""
    return tenant.type == Tenant.Type.PLATFORM or tenant.schema_name == settings.TENANT_BASE_SCHEMA


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status_badge", "type", "created", "open_link"]
    list_filter = ["status", "type", "created"]
    search_fields = ["name", "slug", "schema_name", "domains__domain"]
    ordering = ["-created"]
    date_hierarchy = "created"
    inlines = [DomainInline]
    actions = ["suspend", "reactivate"]
    readonly_fields = ["schema_name", "slug", "status", "type", "created", "provisioning_step", "provisioning_error"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "status", "type", "created"]}),
        ("Database", {"fields": ["schema_name", "provisioning_step", "provisioning_error"]}),
    ]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, tenant: Tenant) -> str:
        colour = {
            Tenant.Status.ACTIVE: "#2b8a3e",
            Tenant.Status.SUSPENDED: "#e67700",
            Tenant.Status.FAILED: "#c92a2a",
        }.get(tenant.status, "#495057")
        return format_html('<strong style="color: {}">{}</strong>', colour, tenant.get_status_display())

    @admin.display(description="Workspace")
    def open_link(self, tenant: Tenant) -> str:
        if _is_protected(tenant):
            return "—"
        url = reverse("admin:tenants_tenant_open", args=[tenant.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Open {}.{} ↗</a>',
            url,
            tenant.slug,
            settings.SWITCHBOARD_BASE_DOMAIN,
        )

    def get_urls(self) -> list:
        open_view = self.admin_site.admin_view(self.open_workspace)
        return [path("<int:tenant_id>/open/", open_view, name="tenants_tenant_open"), *super().get_urls()]

    def open_workspace(self, request: HttpRequest, tenant_id: int) -> HttpResponseRedirect:
        """Redirects to the workspace's sign-in page on the port staff are using (the list cannot know it)."""
        tenant = get_object_or_404(Tenant.objects.workspaces(), pk=tenant_id)
        return HttpResponseRedirect(workspace_login_url(request, tenant.slug))

    # Workspaces are created by sign-up or `manage.py tenant_create`: a bare row here would have no schema.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        if obj is not None and _is_protected(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        # QuerySet.delete() skips Tenant.delete(), which is what drops the schema.
        for tenant in queryset:
            if _is_protected(tenant):
                self.message_user(
                    request, f"“{tenant}” keeps the platform running and was not deleted.", messages.ERROR
                )
                continue
            tenant.delete()

    @admin.action(description="Suspend selected workspaces")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        self._change_status(request, queryset, Tenant.Status.SUSPENDED, allowed_from=Tenant.Status.ACTIVE)

    @admin.action(description="Reactivate selected workspaces")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        self._change_status(request, queryset, Tenant.Status.ACTIVE, allowed_from=Tenant.Status.SUSPENDED)

    def _change_status(self, request: HttpRequest, queryset: QuerySet[Tenant], status: str, allowed_from: str) -> None:
        changed, skipped = [], []
        for tenant in queryset:
            if _is_protected(tenant) or tenant.status != allowed_from:
                skipped.append(tenant.name)
                continue
            tenant_set_status(tenant=tenant, status=status)
            changed.append(tenant.name)
        label = Tenant.Status(status).label.lower()
        if changed:
            self.message_user(
                request, f"{len(changed)} workspace(s) now {label}: {', '.join(changed)}.", messages.SUCCESS
            )
        if skipped:
            self.message_user(
                request,
                f"Left unchanged (platform workspaces, or not {Tenant.Status(allowed_from).label.lower()}): "
                f"{', '.join(skipped)}.",
                messages.WARNING,
            )


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    list_filter = ["is_primary"]
    search_fields = ["domain", "tenant__name", "tenant__slug"]
    list_select_related = ["tenant"]
    autocomplete_fields = ["tenant"]
