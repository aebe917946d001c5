"""Pipelines, stages and leads in the workspace's own Django admin (not the platform admin on the public site)."""

from django.contrib import admin

from accounts.admin_site import WorkspaceAdminPermissions, WorkspaceModelAdmin, workspace_admin_site

from .models import Lead, LeadActivity, LeadStageChange, Pipeline, Stage


class StageInline(WorkspaceAdminPermissions, admin.TabularInline):
    model = Stage
    fields = ("order", "name", "probability", "kind")
    extra = 0


@admin.register(Pipeline, site=workspace_admin_site)
class PipelineAdmin(WorkspaceModelAdmin):
    list_display = ("name", "is_default", "created")
    readonly_fields = ("created",)
    inlines = (StageInline,)


class LeadActivityInline(WorkspaceAdminPermissions, admin.TabularInline):
    model = LeadActivity
    fields = ("kind", "subject", "due_at", "remind_at", "done")
    extra = 0


class LeadStageChangeInline(WorkspaceAdminPermissions, admin.TabularInline):
    model = LeadStageChange
    fields = ("from_stage", "to_stage", "actor", "at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Lead, site=workspace_admin_site)
class LeadAdmin(WorkspaceModelAdmin):
    list_display = ("title", "stage", "customer", "owner", "value", "currency", "probability", "updated")
    list_filter = ("stage__pipeline", "stage", "source", ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("title", "customer__name", "contact__name", "contact__email")
    list_select_related = ("stage", "customer", "owner")
    raw_id_fields = ("customer", "contact")
    readonly_fields = ("created", "updated", "won_at", "lost_at", "position")
    inlines = (LeadActivityInline, LeadStageChangeInline)
    date_hierarchy = "created"
    show_facets = admin.ShowFacets.NEVER  # facet counts re-count the whole table on every filter click

    def has_add_permission(self, request) -> bool:
        # Leads are added on the board (services.lead_create): their first stage change and position come with it.
        return False
