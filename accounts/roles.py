"""What each role may do. Views and API endpoints ask for a capability, never for a role by name."""

from __future__ import annotations

from .models import Role

READ = {"customers.view"}
CUSTOMER_WRITE = {"customers.edit", "customers.import"}
MANAGE = {"customers.delete", "team.view", "team.invite", "workspace.admin"}

CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(READ | CUSTOMER_WRITE | MANAGE | {"workspace.owner"}),
    Role.ADMIN: frozenset(READ | CUSTOMER_WRITE | MANAGE),
    Role.AGENT: frozenset(READ | CUSTOMER_WRITE),
    Role.SALES: frozenset(READ | CUSTOMER_WRITE),
    Role.VIEWER: frozenset(READ),
}


def role_can(role: str, capability: str) -> bool:
    return capability in CAPABILITIES.get(role, frozenset())


def user_can(user, capability: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and role_can(user.role, capability))
