"""The helpdesk in the workspace's own Django admin (owners and admins only, see accounts.admin_site).

For looking things up and fixing data. Everyday work goes through the agent workspace and the services, which
record history and notify people; an edit here does neither, so the history, the version and the
search vectors' sources are read-only.

HelpdeskSettings is not here: it is one row per workspace (a check constraint), edited on the helpdesk settings
page (/settings/helpdesk/), and an admin would offer "add" and "delete" for a row that must always exist.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin_site import WorkspaceAdminPermissions, WorkspaceModelAdmin, workspace_admin_site

from .models import (
    AgentProfile,
    Article,
    ArticleCategory,
    Attachment,
    BusinessCalendar,
    BusinessHours,
    Category,
    Holiday,
    SatisfactionSurvey,
    SavedView,
    Skill,
    SLAPolicy,
    SLARiskModel,
    Team,
    Ticket,
    TicketEvent,
    TicketMessage,
)

NO_FACETS = admin.ShowFacets.NEVER  # facet counts re-count the whole table on every filter click


class ReadOnlyInline(WorkspaceAdminPermissions, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- Tickets ------------------------------------------------------------------------------------


class MessageInline(ReadOnlyInline):
    model = TicketMessage
    fields = ("created", "kind", "author", "author_contact", "channel", "body")
    readonly_fields = fields
    ordering = ("created", "id")


class EventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ("created", "kind", "actor", "data")
    readonly_fields = fields
    ordering = ("created", "id")


@admin.register(Ticket, site=workspace_admin_site)
class TicketAdmin(WorkspaceModelAdmin):
    list_display = ("id", "subject", "status", "priority", "channel", "assignee", "team", "customer", "created")
    list_filter = (
        "status",
        "priority",
        "type",
        "channel",
        ("team", admin.RelatedOnlyFieldListFilter),
        ("category", admin.RelatedOnlyFieldListFilter),
        "sla_breached",
    )
    search_fields = ("subject", "requester__email", "requester__name", "customer__name")
    list_select_related = ("assignee", "team", "customer")
    raw_id_fields = ("requester", "customer", "assignee", "merged_into", "sla_policy")
    readonly_fields = (
        "version",
        "created",
        "updated",
        "original_description",
        "ai_suggestions",
        "ai_analysis_date",
        "ai_analysis_status",
        "first_response_due",
        "next_response_due",
        "resolution_due",
        "sla_due_at",
        "first_responded_at",
        "solved_at",
        "closed_at",
    )
    fieldsets = (
        (None, {"fields": ("subject", "original_description", "improved_description", "status", "priority", "type")}),
        ("People", {"fields": ("requester", "customer", "assignee", "team", "category", "tags", "merged_into")}),
        ("AI", {"fields": ("ai_analysis_status", "ai_analysis_date", "ai_suggestions", "sentiment", "language")}),
        (
            "SLA",
            {
                "fields": (
                    "sla_policy",
                    "first_response_due",
                    "next_response_due",
                    "resolution_due",
                    "sla_due_at",
                    "first_responded_at",
                    "sla_breached",
                )
            },
        ),
        ("Dates", {"fields": ("created", "updated", "solved_at", "closed_at", "version")}),
    )
    inlines = (MessageInline, EventInline)
    show_facets = NO_FACETS


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("filename", "content_type", "size", "created")
    readonly_fields = fields


@admin.register(TicketMessage, site=workspace_admin_site)
class TicketMessageAdmin(WorkspaceModelAdmin):
    list_display = ("id", "ticket", "kind", "author", "author_contact", "channel", "created")
    list_filter = ("kind", "channel")
    search_fields = ("ticket__subject", "author__email", "author_contact__email")
    list_select_related = ("ticket", "author", "author_contact")
    raw_id_fields = ("ticket", "author", "author_contact")
    readonly_fields = ("created",)
    inlines = (AttachmentInline,)
    show_facets = NO_FACETS


@admin.register(Attachment, site=workspace_admin_site)
class AttachmentAdmin(WorkspaceModelAdmin):
    """Listed and removable; never uploaded or edited here (that would skip core.uploads' checks)."""

    list_display = ("filename", "content_type", "size", "message", "created")
    search_fields = ("filename",)
    list_select_related = ("message",)
    fields = ("filename", "content_type", "size", "message", "created")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(TicketEvent, site=workspace_admin_site)
class TicketEventAdmin(WorkspaceModelAdmin):
    """History is evidence: it can be read here, never rewritten."""

    list_display = ("ticket", "kind", "actor", "created")
    list_filter = ("kind",)
    list_select_related = ("ticket", "actor")
    raw_id_fields = ("ticket", "actor")
    show_facets = NO_FACETS

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SavedView, site=workspace_admin_site)
class SavedViewAdmin(WorkspaceModelAdmin):
    list_display = ("name", "owner", "shared", "position")
    list_filter = ("shared",)
    list_editable = ("position",)
    search_fields = ("name", "owner__email")
    raw_id_fields = ("owner",)


# --- Teams, calendars, SLA ----------------------------------------------------------------------


@admin.register(Category, site=workspace_admin_site)
class CategoryAdmin(WorkspaceModelAdmin):
    list_display = ("name", "default_team", "description")
    search_fields = ("name", "description")
    list_select_related = ("default_team",)


@admin.register(Team, site=workspace_admin_site)
class TeamAdmin(WorkspaceModelAdmin):
    list_display = ("name", "lead", "calendar")
    search_fields = ("name",)
    list_select_related = ("lead", "calendar")
    filter_horizontal = ("members",)


@admin.register(Skill, site=workspace_admin_site)
class SkillAdmin(WorkspaceModelAdmin):
    search_fields = ("name",)


@admin.register(AgentProfile, site=workspace_admin_site)
class AgentProfileAdmin(WorkspaceModelAdmin):
    list_display = ("user", "availability", "max_open_tickets", "last_assigned_at")
    list_filter = ("availability",)
    search_fields = ("user__name", "user__email")
    list_select_related = ("user",)
    filter_horizontal = ("skills",)
    raw_id_fields = ("user",)


class BusinessHoursInline(WorkspaceAdminPermissions, admin.TabularInline):
    model = BusinessHours
    extra = 0


class HolidayInline(WorkspaceAdminPermissions, admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessCalendar, site=workspace_admin_site)
class BusinessCalendarAdmin(WorkspaceModelAdmin):
    list_display = ("name", "timezone", "is_default", "always_open")
    inlines = (BusinessHoursInline, HolidayInline)


@admin.register(SLAPolicy, site=workspace_admin_site)
class SLAPolicyAdmin(WorkspaceModelAdmin):
    list_display = (
        "name",
        "position",
        "active",
        "priority",
        "customer_tier",
        "channel",
        "first_response_minutes",
        "resolution_minutes",
    )
    list_editable = ("position", "active")
    list_filter = ("active",)
    search_fields = ("name",)


@admin.register(SLARiskModel, site=workspace_admin_site)
class SLARiskModelAdmin(WorkspaceModelAdmin):
    """Models are trained, not typed in: read-only."""

    list_display = ("created", "algorithm", "samples", "auc", "accuracy", "heuristic_auc")

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- Knowledge base, CSAT -------------------------------------------------------------


@admin.register(ArticleCategory, site=workspace_admin_site)
class ArticleCategoryAdmin(WorkspaceModelAdmin):
    list_display = ("name", "slug", "position")
    list_editable = ("position",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Article, site=workspace_admin_site)
class ArticleAdmin(WorkspaceModelAdmin):
    list_display = ("title", "status", "visibility", "category", "ai_generated", "view_count", "updated")
    list_filter = ("status", "visibility", "ai_generated", ("category", admin.RelatedOnlyFieldListFilter))
    search_fields = ("title", "slug")
    list_select_related = ("category",)
    prepopulated_fields = {"slug": ("title",)}
    raw_id_fields = ("author", "reviewed_by", "source_ticket")
    readonly_fields = ("created", "updated", "view_count", "helpful_yes", "helpful_no")
    show_facets = NO_FACETS


@admin.register(SatisfactionSurvey, site=workspace_admin_site)
class SatisfactionSurveyAdmin(WorkspaceModelAdmin):
    list_display = ("ticket", "rating", "sent_at", "answered_at")
    list_filter = ("rating",)
    list_select_related = ("ticket",)
    raw_id_fields = ("ticket",)
    readonly_fields = ("token", "sent_at", "answered_at", "rating", "comment")
