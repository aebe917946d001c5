"""Deleting a row that other rows still need (`on_delete=PROTECT`): refused with a sentence that says why and
what to do, the same for the pages and the API ("This customer still has 3 tickets. Reassign or delete them
first.").

Nothing here knows the models involved: the blockers are whatever Django's deletion collector finds, named by
their own verbose names, so a later app's protected references are explained the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import models, router
from django.db.models.deletion import Collector, ProtectedError, RestrictedError


class StillInUse(Exception):
    """The row cannot be deleted yet; `str(error)` is the sentence to show."""


def delete_unless_in_use(instance: models.Model) -> None:
    """`instance.delete()`, or StillInUse (nothing deleted) when protected rows still point at it."""
    try:
        instance.delete()
    except (ProtectedError, RestrictedError) as error:
        raise StillInUse(in_use_message(instance._meta.verbose_name, _blockers(error))) from error


def deletion_blocker(instance: models.Model) -> str | None:
    """The sentence `delete_unless_in_use` would raise, or None: asks the collector without deleting anything."""
    collector = Collector(using=router.db_for_write(type(instance), instance=instance))
    try:
        collector.collect([instance])
    except (ProtectedError, RestrictedError) as error:
        return in_use_message(instance._meta.verbose_name, _blockers(error))
    return None


def in_use_message(what: str, blockers: Iterable[models.Model]) -> str:
    """`what` is the kind of row being deleted ("customer"); `blockers` the rows that still point at it."""
    counts = Counter(type(blocker) for blocker in blockers)
    parts = [_count(model, number) for model, number in counts.most_common()]
    if not parts:
        return f"This {what} is still in use. Remove what uses it first."
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"
    return f"This {what} still has {listed}. Reassign or delete them first."


def _blockers(error: ProtectedError | RestrictedError) -> set[models.Model]:
    return set(error.protected_objects if isinstance(error, ProtectedError) else error.restricted_objects)


def _count(model: type[models.Model], number: int) -> str:
    name = model._meta.verbose_name if number == 1 else model._meta.verbose_name_plural
    return f"{number} {name}"
