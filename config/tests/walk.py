"""Enumerates what the isolation and authorization suites check: every workspace model and every workspace URL.

New apps are covered without touching the suites: a new workspace model needs a factory named
`<app>.tests.factories.<Model>Factory` (or a builder in `config/tests/canaries.py`), and a new URL
argument needs an entry in `URL_KWARG_MODELS` (the suites fail with a message saying so).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.urls import URLPattern, URLResolver, get_resolver

TENANT_URLCONF = "config.urls.tenant"


@contextmanager
def rolled_back() -> Iterator[None]:
    """A savepoint undone at the end, failed or not: many routes checked in one test each start from the same
    rows, as if each had a test transaction of its own."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def tenant_models() -> list[type[models.Model]]:
    """Concrete models whose tables exist in every workspace schema."""
    configs = [config for config in apps.get_app_configs() if config.name in settings.TENANT_APPS]
    return [
        model
        for config in configs
        for model in config.get_models()
        if model._meta.managed and not model._meta.proxy and not model._meta.abstract
    ]


@dataclass(frozen=True)
class Route:
    name: str  # namespaced URL name, e.g. "customers:customer_detail"
    route: str  # human-readable pattern, e.g. "customers/<int:customer_id>/"
    kwargs: tuple[str, ...]
    callback: object

    @property
    def view_class(self):
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("workspace_admin:")


def tenant_routes() -> Iterator[Route]:
    yield from _walk(get_resolver(TENANT_URLCONF).url_patterns, prefix="", namespace="", kwargs=())


def _walk(patterns, prefix: str, namespace: str, kwargs: tuple[str, ...]) -> Iterator[Route]:
    for entry in patterns:
        own_kwargs = kwargs + tuple(_kwarg_names(entry))
        if isinstance(entry, URLResolver):
            child_namespace = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), child_namespace, own_kwargs)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield Route(name=name, route=prefix + str(entry.pattern), kwargs=own_kwargs, callback=entry.callback)


def _kwarg_names(entry: URLPattern | URLResolver) -> list[str]:
    pattern = entry.pattern
    converters = getattr(pattern, "converters", None)
    if converters:
        return list(converters)
    regex = getattr(pattern, "regex", None)
    return list(regex.groupindex) if regex is not None else []
