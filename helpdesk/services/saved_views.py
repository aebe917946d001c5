"""Writing saved ticket views: an agent keeps the list's current filters under a name (personal or shared)."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from core.saved_views import view_name_clean

from ..models import SavedView

MAX_VIEWS_PER_PERSON = 50


@transaction.atomic
def saved_view_create(*, owner, name: str, filters: Mapping[str, str], shared: bool = False) -> SavedView:
    """`filters` are the ticket list's parameters as helpdesk.forms.TicketFilterForm normalised them."""
    name = view_name_clean(name)
    if SavedView.objects.filter(owner=owner).count() >= MAX_VIEWS_PER_PERSON:
        raise ValidationError({"name": f"You have {MAX_VIEWS_PER_PERSON} views already; delete one first."})
    return SavedView.objects.create(owner=owner, name=name, filters=dict(filters), shared=bool(shared))


@transaction.atomic
def saved_view_delete(*, view: SavedView, actor) -> None:
    view.delete()
