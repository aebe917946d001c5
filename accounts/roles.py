"""What each role may do. Views and API endpoints ask for a capability, never for a role by name."""

from __future__ import annotations

from .models import Role

# Every member: sign in, use the API with their own token, read customers, tickets and the knowledge base.
MEMBER = {"api.use", "customers.view", "tickets.view", "kb.view", "leads.view", "quotes.view", "notifications.view"}
CUSTOMER_WRITE = {"customers.edit", "customers.import"}
# Working the sales pipeline: leads, their moves and activities.
LEAD_WRITE = {"leads.edit"}
# Shaping the sales process: pipelines and their stages, lead views shared with the whole workspace, and the web
# forms that put leads on the board from the workspace's own site.
LEAD_MANAGE = {"leads.manage"}
# Selling: building and sending quotes, the catalog, and seeing costs and margins (never shown to other roles).
QUOTE_WRITE = {"quotes.edit", "quotes.margin"}
# How the workspace's quotes look to customers: the logo and brand colour on PDFs and the quote page.
QUOTE_MANAGE = {"quotes.manage"}
# Working the queue: replies, notes, assignment, bulk actions, AI composer; writing knowledge-base articles.
TICKET_WORK = {"tickets.edit", "kb.edit"}
# Figures across the product: dashboards, trends, reports and alerts (everyone who works tickets or deals).
INSIGHTS = {"insights.view"}
# Dashboards for the whole workspace: sharing them, editing anyone's shared one, scheduling reports to others.
INSIGHTS_MANAGE = {"insights.manage"}
# Running the workspace: people, invitations, the workspace's Django admin.
MANAGE = {
    "customers.delete",
    "team.view",
    "team.invite",
    "team.manage",
    "workspace.admin",
    "ai.configure",
    "ai.usage.view",
    "helpdesk.configure",  # SLA policies, teams, skills, business hours, categories, auto-response
    "automation.manage",  # automation rules: triggers, time rules, their actions, dry runs, run logs
    "notifications.manage",  # workspace notification defaults, templates, the delivery log
}

# Everything but the workspace itself: an admin runs the workspace, an owner also owns it.
RUN_WORKSPACE = (
    MEMBER
    | CUSTOMER_WRITE
    | TICKET_WORK
    | LEAD_WRITE
    | LEAD_MANAGE
    | QUOTE_WRITE
    | QUOTE_MANAGE
    | INSIGHTS
    | INSIGHTS_MANAGE
    | MANAGE
)

CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(RUN_WORKSPACE | {"workspace.owner"}),
    Role.ADMIN: frozenset(RUN_WORKSPACE),
    Role.AGENT: frozenset(MEMBER | CUSTOMER_WRITE | TICKET_WORK | INSIGHTS),
    Role.SALES: frozenset(MEMBER | CUSTOMER_WRITE | LEAD_WRITE | QUOTE_WRITE | INSIGHTS),
    Role.VIEWER: frozenset(MEMBER),
}

# Roles that run the workspace: they get `is_staff` (its Django admin) and may be given only by someone who can.
MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMIN})

ROLE_DESCRIPTIONS: dict[str, str] = {
    Role.OWNER: "Everything, including other owners and the workspace itself.",
    Role.ADMIN: "Manages people, invitations and settings; cannot touch owners.",
    Role.AGENT: "Works with customers and conversations.",
    Role.SALES: "Works with customers, leads and quotes.",
    Role.VIEWER: "Read-only access.",
}


def role_can(role: str, capability: str) -> bool:
    return capability in CAPABILITIES.get(role, frozenset())


def roles_with(capability: str) -> list[str]:
    """The roles that grant `capability` (for queries such as "who may work tickets")."""
    return [role for role in Role.values if role_can(role, capability)]


def user_can(user, capability: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and role_can(user.role, capability))


def user_capabilities(user) -> list[str]:
    if not (user and user.is_authenticated and user.is_active):
        return []
    return sorted(CAPABILITIES.get(user.role, frozenset()))


def roles_assignable_by(actor) -> list[str]:
    """Owners may hand out any role; admins every role except owner."""
    if role_can(actor.role, "workspace.owner"):
        return list(Role.values)
    if role_can(actor.role, "team.manage"):
        return [role for role in Role.values if role != Role.OWNER]
    return []
