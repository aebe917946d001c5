"""Infrastructure tables of the shared kernel (public schema only): the cache's database fallback and the task outbox.

Both serve every workspace from the public schema and never mix them up: cache keys start with the schema
(django_tenants.cache.make_key) and every outbox row names the schema its task was queued from.
"""

from __future__ import annotations

import json
import uuid

from django.db import models
from kombu.utils.json import JSONEncoder as KombuJSONEncoder
from kombu.utils.json import object_hook as kombu_object_hook

from .cache_fallback import TABLE as CACHE_FALLBACK_TABLE


class KombuJSONDecoder(json.JSONDecoder):
    """Reads back what kombu's encoder wrote (datetimes, decimals, UUIDs…), as Celery's json serializer would."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("object_hook", kombu_object_hook)
        super().__init__(*args, **kwargs)


class CacheFallbackEntry(models.Model):
    """A cache entry written while Redis was unreachable (core.cache_fallback); copied back into Redis and
    deleted when Redis answers again. A row with neither value nor number records a delete (a tombstone)."""

    key = models.TextField(primary_key=True)  # the full key from the cache's key function, schema included
    value = models.BinaryField(null=True)  # pickled, as Django's database cache stores values
    number = models.BigIntegerField(null=True)  # integers apart, so incr() is one atomic UPDATE
    expires = models.DateTimeField(null=True)  # NULL: never

    class Meta:
        db_table = CACHE_FALLBACK_TABLE

    def __str__(self) -> str:
        return self.key


class OutboxMessage(models.Model):
    """A Celery task written in the same transaction as the change that asked for it; deleted once the broker has it.

    core.outbox publishes it right after the commit, or its relay does when the broker is back. The task id is fixed
    here, so the message and its result have one id whoever publishes it.
    """

    task_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    task_name = models.CharField(max_length=200)
    schema_name = models.CharField(max_length=63)  # stamped on the message: the task runs in this schema
    args = models.JSONField(default=list, encoder=KombuJSONEncoder, decoder=KombuJSONDecoder)
    kwargs = models.JSONField(default=dict, encoder=KombuJSONEncoder, decoder=KombuJSONDecoder)
    created = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)  # failed publishes so far
    last_error = models.TextField(blank=True)

    class Meta:
        db_table = "core_outbox"

    def __str__(self) -> str:
        return f"{self.task_name} in {self.schema_name} ({self.task_id})"
