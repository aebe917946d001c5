"""Django admin registrations: workspace people on the workspace admin, platform staff on the public admin."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from . import services
from .admin_site import WorkspaceModelAdmin, workspace_admin_site
from .models import Invitation, Role, User
from .roles import user_can

# --- Workspace admin (<slug>.localhost/admin/) --------------------------------------------------


class WorkspaceUserForm(forms.ModelForm):
    """What the Team page may change, with its rules: a role and whether the person may sign in.

    Admins never touch owners, the last owner stays one, nobody deactivates themselves. Names and addresses
    belong to their people; admin-site access (`is_staff`) follows the role and is not a field of its own.
    """

    actor: User

    class Meta:
        model = User
        fields = ["role", "is_active"]

    def clean(self) -> dict:
        data = super().clean()
        saved = User.objects.get(pk=self.instance.pk)
        try:
            if "role" in self.changed_data:
                services.user_role_change_check(user=saved, role=data.get("role"), actor=self.actor)
            if "is_active" in self.changed_data:
                if data.get("is_active"):
                    services.user_reactivate_check(user=saved, actor=self.actor)
                else:
                    services.user_deactivate_check(user=saved, actor=self.actor)
        except (ValidationError, PermissionDenied) as error:
            raise ValidationError(getattr(error, "messages", [str(error)])) from error
        return data


@admin.register(User, site=workspace_admin_site)
class WorkspaceUserAdmin(WorkspaceModelAdmin):
    form = WorkspaceUserForm
    deletable = False  # conversations and records keep pointing at people; deactivate them instead
    list_display = ["email", "name", "role", "is_active", "last_login", "date_joined"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "name"]
    ordering = ["name", "email"]
    fields = ["email", "name", "role", "is_active", "last_login", "date_joined"]
    # The address is the sign-in and is changed (with verification) by its owner, the name by its owner too.
    readonly_fields = ["email", "name", "last_login", "date_joined"]

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Admins see an owner's row but cannot change it (the Team page offers no controls for it either).
        if obj is not None and obj.role == Role.OWNER and not user_can(request.user, "workspace.owner"):
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # People join by invitation (verified email, chosen password); the Team page sends them.
        return False

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        # Through the Team page's services: the same locks, rules, admin-site access and token revocation.
        saved = User.objects.get(pk=obj.pk)
        if "role" in form.changed_data:
            services.user_set_role(user=saved, role=obj.role, actor=request.user)
        if "is_active" in form.changed_data:
            change_activity = services.user_reactivate if obj.is_active else services.user_deactivate
            change_activity(user=saved, actor=request.user)
        obj.refresh_from_db()


@admin.register(Invitation, site=workspace_admin_site)
class InvitationAdmin(WorkspaceModelAdmin):
    list_display = ["email", "role", "status", "invited_by", "created", "expires", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email"]
    list_select_related = ["invited_by"]
    fields = ["email", "role", "invited_by", "created", "expires", "sent_count", "accepted_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # An invitation is only useful with its emailed link; the Team page creates and sends both.
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Status")
    def status(self, invitation: Invitation) -> str:
        return invitation.status.capitalize()

    @admin.action(description="Revoke selected invitations")
    def revoke(self, request: HttpRequest, queryset) -> None:
        revoked = 0
        for invitation in queryset:
            try:
                services.invitation_revoke(invitation=invitation, actor=request.user)
                revoked += 1
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.WARNING)
        self.message_user(request, f"{revoked} invitation(s) revoked.", messages.SUCCESS)


# --- Platform admin (localhost/admin/): staff of the platform itself, in the public schema -------


class PlatformUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "name"]


class PlatformUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class PlatformUserAdmin(DjangoUserAdmin):
    form = PlatformUserChangeForm
    add_form = PlatformUserCreationForm
    list_display = ["email", "name", "is_staff", "is_superuser", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "name"]
    ordering = ["email"]
    filter_horizontal = ["groups", "user_permissions"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "name", "password"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "usable_password", "password1", "password2"]}),
    ]
