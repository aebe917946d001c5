"""Team page (members, roles, invitations), invitation acceptance and the personal API token page."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account import app_settings as allauth_settings
from allauth.account.decorators import reauthentication_required
from allauth.account.utils import perform_login
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import add_service_errors
from core.htmx import render_partial

from . import selectors, services
from .emails import workspace_name
from .forms import InvitationAcceptForm, InvitationForm, RoleForm
from .models import Invitation, Role, User
from .permissions import capability_required
from .roles import ROLE_DESCRIPTIONS, role_can, roles_assignable_by, user_can

TEAM_TEMPLATE = "accounts/team.html"


@dataclass(frozen=True)
class MemberRow:
    user: User
    is_self: bool
    can_change_role: bool
    can_deactivate: bool


def _member_rows(actor: User) -> list[MemberRow]:
    manages = user_can(actor, "team.manage")
    is_owner = role_can(actor.role, "workspace.owner")
    rows = []
    for member in selectors.member_list():
        reachable = manages and (member.role != Role.OWNER or is_owner)
        rows.append(
            MemberRow(
                user=member,
                is_self=member.pk == actor.pk,
                can_change_role=reachable,
                can_deactivate=reachable and member.pk != actor.pk,
            )
        )
    return rows


def _team_context(request: HttpRequest) -> dict:
    return {
        "members": _member_rows(request.user),
        "invitations": list(selectors.invitation_list_open()),
        "assignable_roles": [(role, Role(role).label) for role in roles_assignable_by(request.user)],
        "role_descriptions": [(label, ROLE_DESCRIPTIONS[value]) for value, label in Role.choices],
        "can_invite": user_can(request.user, "team.invite"),
        "can_manage": user_can(request.user, "team.manage"),
    }


def _team_fragment(request: HttpRequest, partial: str) -> HttpResponse:
    """HTMX gets the refreshed fragment (messages ride along as toasts); plain forms go back to the page."""
    if request.htmx:
        return render_partial(request, TEAM_TEMPLATE, partial, _team_context(request))
    return redirect("people:members")


def _message_of(error: ValidationError) -> str:
    return " ".join(error.messages)


@capability_required("team.view")
@require_http_methods(["GET"])
def team(request: HttpRequest) -> HttpResponse:
    return render(request, TEAM_TEMPLATE, _team_context(request))


# --- Members ------------------------------------------------------------------------------------


@capability_required("team.manage")
@require_POST
def member_role(request: HttpRequest, user_id: int) -> HttpResponse:
    member = get_object_or_404(User, pk=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        return _team_fragment(request, "team-members")
    try:
        member = services.user_set_role(user=member, role=form.cleaned_data["role"], actor=request.user)
    except ValidationError as error:
        messages.error(request, _message_of(error))
    else:
        messages.success(request, f"{member} is now {member.get_role_display().lower()}.")
    return _team_fragment(request, "team-members")


@capability_required("team.manage")
@require_POST
def member_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    member = get_object_or_404(User, pk=user_id)
    try:
        services.user_deactivate(user=member, actor=request.user)
    except ValidationError as error:
        messages.error(request, _message_of(error))
    else:
        messages.success(request, f"{member} was deactivated and can no longer sign in.")
    return _team_fragment(request, "team-members")


@capability_required("team.manage")
@require_POST
def member_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    member = get_object_or_404(User, pk=user_id)
    try:
        services.user_reactivate(user=member, actor=request.user)
    except ValidationError as error:
        messages.error(request, _message_of(error))
    else:
        messages.success(request, f"{member} can sign in again.")
    return _team_fragment(request, "team-members")


# --- Invitations --------------------------------------------------------------------------------


@capability_required("team.invite")
@require_http_methods(["GET", "POST"])
def invitation_create(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None, roles=roles_assignable_by(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            if not request.htmx:
                return redirect("people:members")
            response = render_partial(request, TEAM_TEMPLATE, "team-invitations", _team_context(request))
            # The form was posted from the modal; the answer replaces the invitations list and closes it.
            response["HX-Retarget"] = "#team-invitations"
            response["HX-Reswap"] = "outerHTML"
            response["HX-Trigger"] = "modal:close"
            return response
    template = "accounts/invitation_create.html"
    if request.htmx:
        template += "#invitation-form"
    return render(request, template, {"form": form})


@capability_required("team.invite")
@require_POST
def invitation_resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    try:
        services.invitation_resend(invitation=invitation, actor=request.user)
    except ValidationError as error:
        messages.error(request, _message_of(error))
    else:
        messages.success(request, f"A new invitation link was sent to {invitation.email}.")
    return _team_fragment(request, "team-invitations")


@capability_required("team.invite")
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except ValidationError as error:
        messages.error(request, _message_of(error))
    else:
        messages.success(request, f"The invitation for {invitation.email} was revoked; its link no longer works.")
    return _team_fragment(request, "team-invitations")


# Reached signed out, from the email: the token in the URL is the only credential.
@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_check(token=token)
    except services.InvitationInvalid as error:
        return _invitation_invalid(request, error)
    context = {"invitation": invitation, "workspace_name": workspace_name()}
    if request.user.is_authenticated:
        return render(request, "accounts/invitation_accept.html", {**context, "signed_in_as": request.user})
    form = InvitationAcceptForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token, name=form.cleaned_data["name"], password=form.cleaned_data["password1"]
            )
        except services.InvitationInvalid as error:
            return _invitation_invalid(request, error)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error("password1" if field == "password" else field, errors)
        else:
            messages.success(request, f"Welcome to {workspace_name()}, {user.get_short_name()}!")
            return perform_login(
                request, user, email_verification=allauth_settings.EMAIL_VERIFICATION, redirect_url="/"
            )
    return render(request, "accounts/invitation_accept.html", {**context, "form": form})


def _invitation_invalid(request: HttpRequest, error: services.InvitationInvalid) -> HttpResponse:
    status = 404 if error.reason == "unknown" else 410
    context = {"reason": error.reason, "message": str(error), "workspace_name": workspace_name()}
    return render(request, "accounts/invitation_invalid.html", context, status=status)


# --- Personal API token -------------------------------------------------------------------------


@never_cache
@capability_required("api.use")
@require_http_methods(["GET"])
def api_token(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/api_token.html", {"token": selectors.api_token_get(user=request.user)})


# Minting a long-lived credential is what a stolen session would do first: ask for the password again.
@never_cache
@capability_required("api.use")
@require_POST
@reauthentication_required
def api_token_create(request: HttpRequest) -> HttpResponse:
    token = services.api_token_create(user=request.user)
    messages.success(request, "New API token created. Copy it now: it will not be shown again.")
    return render(request, "accounts/api_token.html", {"token": token, "new_key": token.key})


@capability_required("api.use")
@require_POST
def api_token_revoke(request: HttpRequest) -> HttpResponse:
    if services.api_token_revoke(user=request.user):
        messages.success(request, "Your API token was revoked. Scripts using it will get 401 from now on.")
    return redirect("accounts:api_token")
