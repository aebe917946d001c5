"""Live updates: tenant-scoped group names and HTML pushes that leave only after the transaction commits."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

WORKSPACE = "workspace"
USER = "user"


def group_name(kind: str, *parts: object, schema: str | None = None) -> str:
    """Every group name starts with the schema, so a socket can only ever join its own workspace's groups."""
    schema = schema or connection.schema_name
    return ".".join([schema, kind, *(str(part) for part in parts)])


def workspace_group() -> str:
    return group_name(WORKSPACE)


def user_group(user_id: int) -> str:
    return group_name(USER, user_id)


def notify_on_commit(group: str, html: str, *, exclude_user_id: int | None = None) -> None:
    """After the current transaction commits, push `html` (OOB-swappable fragments) to every socket in `group`.

    Refuses a group of another schema: a workspace's code can never push into another workspace's sockets.
    """
    if not group.startswith(f"{connection.schema_name}."):
        raise ValueError(f"Group {group!r} does not belong to the current schema {connection.schema_name!r}.")
    message = {"type": "push.html", "html": html, "exclude_user_id": exclude_user_id}

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, message)

    transaction.on_commit(send)
