"""Customers and contacts in the workspace's own Django admin (not the platform admin on the public site)."""

from django.contrib import admin

from accounts.admin_site import WorkspaceAdminPermissions, WorkspaceModelAdmin, workspace_admin_site

from .models import Contact, Customer


class ContactInline(WorkspaceAdminPermissions, admin.TabularInline):
    # The role decides in the workspace admin, for inlines too (Django's per-model permission rows are unused).
    model = Contact
    fields = ("name", "title", "email", "phone")
    extra = 0
    show_change_link = True


@admin.register(Customer, site=workspace_admin_site)
class CustomerAdmin(WorkspaceModelAdmin):
    list_display = ("name", "domain", "industry", "tier", "owner", "contact_count", "created")
    list_filter = ("tier", "industry", ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "domain", "contacts__name", "contacts__email")
    list_select_related = ("owner",)
    readonly_fields = ("created", "updated")
    fields = ("name", "domain", "industry", "tier", "owner", "tags", "created", "updated")
    inlines = (ContactInline,)
    date_hierarchy = "created"
    show_facets = admin.ShowFacets.NEVER  # facet counts re-count the whole table on every filter click


@admin.register(Contact, site=workspace_admin_site)
class ContactAdmin(WorkspaceModelAdmin):
    list_display = ("name", "email", "phone", "title", "customer", "created")
    search_fields = ("name", "email", "customer__name", "customer__domain")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    readonly_fields = ("created", "updated")
