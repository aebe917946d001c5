"""Mailboxes and received mail in the workspace's own Django admin: admins see every message that arrived, and
why one was ignored, rejected or could not be parsed (the original .eml stays downloadable), and every email sent
with how its delivery went."""

from django.contrib import admin, messages

from accounts.admin_site import WorkspaceModelAdmin, workspace_admin_site

from .models import InboundEmail, Mailbox, OutboundEmail, SmsMessage
from .services.inbound import inbound_process_again


@admin.register(Mailbox, site=workspace_admin_site)
class MailboxAdmin(WorkspaceModelAdmin):
    list_display = ("name", "address", "kind", "status", "active", "is_default", "last_checked_at")
    list_filter = ("kind", "status", "active")
    search_fields = ("name", "address")
    readonly_fields = ("status", "last_checked_at", "last_error", "consecutive_failures", "created")


@admin.register(InboundEmail, site=workspace_admin_site)
class InboundEmailAdmin(WorkspaceModelAdmin):
    list_display = ("received", "sender", "subject", "status", "ticket_id", "mailbox", "size")
    list_filter = ("status", "source", ("mailbox", admin.RelatedOnlyFieldListFilter))
    search_fields = ("sender", "subject", "message_id")
    list_select_related = ("mailbox",)
    date_hierarchy = "received"
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = [field.name for field in InboundEmail._meta.fields]
    actions = ["process_again"]

    @admin.action(description="Process again (failed messages)")
    def process_again(self, request, queryset) -> None:
        queued = sum(inbound_process_again(inbound) for inbound in queryset)
        skipped = queryset.count() - queued
        self.message_user(request, f"{queued} message(s) queued for processing again.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} message(s) were not failed and were left alone.", messages.INFO)

    def has_add_permission(self, request) -> bool:
        return False  # mail arrives by mailboxes and the forwarding webhook, never typed in


# --- sms ---


@admin.register(SmsMessage, site=workspace_admin_site)
class SmsMessageAdmin(WorkspaceModelAdmin):
    """Every text received and sent, with Twilio's status and error: why a reply did not arrive."""

    list_display = ("created", "direction", "from_number", "to_number", "status", "error_code", "ticket_id")
    list_filter = ("direction", "status", ("number", admin.RelatedOnlyFieldListFilter))
    search_fields = ("message_sid", "from_number", "to_number", "body")
    list_select_related = ("number",)
    date_hierarchy = "created"
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = [field.name for field in SmsMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # texts arrive by Twilio's webhook and leave as agents' replies


@admin.register(OutboundEmail, site=workspace_admin_site)
class OutboundEmailAdmin(WorkspaceModelAdmin):
    list_display = ("created", "kind", "subject", "status", "attempts", "ticket_id", "mailbox")
    list_filter = ("status", "kind", ("mailbox", admin.RelatedOnlyFieldListFilter))
    search_fields = ("subject", "message_id")
    list_select_related = ("mailbox",)
    date_hierarchy = "created"
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = [field.name for field in OutboundEmail._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # written by the delivery of what the helpdesk hands over
