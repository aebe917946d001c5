"""Reads of received mail."""

from __future__ import annotations

from ..models import InboundEmail


def inbound_get(*, inbound_id: int) -> InboundEmail:
    """Raises InboundEmail.DoesNotExist."""
    return InboundEmail.objects.get(pk=inbound_id)
