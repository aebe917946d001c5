"""Capability checks for function views and DRF endpoints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django_tenants.utils import get_public_schema_name
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .roles import user_can


def _in_workspace() -> bool:
    return connection.schema_name != get_public_schema_name()


def capability_required(capability: str) -> Callable:
    """Signed-in workspace member with `capability`; anonymous → login, others → 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not _in_workspace() or not user_can(request.user, capability):
                raise PermissionDenied(f"Your role does not allow this ({capability}).")
            return view(request, *args, **kwargs)

        wrapper.required_capability = capability  # read by the authorization test that walks every URL
        return wrapper

    return decorator


class IsWorkspaceMember(BasePermission):
    """Default for every API view: an authenticated, active user of this workspace."""

    message = "Sign in to this workspace to use its API."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and _in_workspace())


class HasCapability(IsWorkspaceMember):
    """The view names `read_capability` (safe methods), `write_capability` and optionally `delete_capability`."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        capability = _capability_for(request.method, view)
        if capability is None:
            return False
        if not user_can(request.user, capability):
            self.message = f"Your role does not allow this ({capability})."
            return False
        return True


def _capability_for(method: str, view) -> str | None:
    if method in SAFE_METHODS:
        return getattr(view, "read_capability", None)
    if method == "DELETE" and getattr(view, "delete_capability", None):
        return view.delete_capability
    return getattr(view, "write_capability", None)
