"""Tells other apps that rows of a model changed, without them importing the model: `changes_watch(model, signal,
fields=…)` connects post_save/post_delete and sends `signal` with `ids=(pk,)` inside the writer's transaction.

Insights keeps its rollups from these (each app's contracts define the signal); a receiver that queues work uses
the outbox (core.outbox.enqueue_on_commit), so the work commits or rolls back with the change. A save whose
`update_fields` touch none of `fields` is not reported: flags such as "warned" or AI statuses change no figure.
Queryset `.update()` and `bulk_create` send nothing: insights' nightly repair catches what they change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal


def changes_watch(
    model: type[models.Model],
    signal: Signal,
    *,
    fields: Iterable[str] = (),
    id_of: Callable[[models.Model], int | None] = lambda instance: instance.pk,
) -> None:
    watched = frozenset(fields)
    uid = f"changes-{model._meta.label}-{id(signal)}"

    def saved(sender, instance, created: bool = False, update_fields=None, **kwargs) -> None:
        if kwargs.get("raw"):
            return  # fixtures
        if not created and update_fields is not None and watched and not watched & set(update_fields):
            return
        _send(instance)

    def deleted(sender, instance, **kwargs) -> None:
        _send(instance)

    def _send(instance: models.Model) -> None:
        pk = id_of(instance)
        if pk is not None:
            signal.send(sender=model, ids=(pk,))

    post_save.connect(saved, sender=model, weak=False, dispatch_uid=f"{uid}-save")
    post_delete.connect(deleted, sender=model, weak=False, dispatch_uid=f"{uid}-delete")


def event_send_on_commit(signal: Signal, **kwargs) -> None:
    """Sends `signal` with `kwargs` (plain values: ids, names) once the current transaction commits, to receivers
    that must not see uncommitted rows (automation rules, evaluated by a worker). A failing receiver is logged, never
    raised: the change is already committed."""
    import logging

    from django.db import transaction

    def send() -> None:
        for receiver, result in signal.send_robust(sender=None, **kwargs):
            if isinstance(result, Exception):
                logging.getLogger(__name__).error("%r failed on %s", receiver, kwargs, exc_info=result)

    transaction.on_commit(send)
