"""Which providers exist, how to construct one, and a process-wide cache of constructed clients.

Vendor modules are imported only when a workspace uses them (their SDKs are heavy), by dotted path. Tests
register their own scripted providers with `registered(...)`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module

from .providers.base import Misconfigured, Provider, ProviderSettings

LOCAL = "local"


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    label: str
    target: str | type  # "package.module.ClassName" or the class itself (tests)
    is_external: bool = True
    needs_key: bool = True
    help: str = ""


_BUILTIN = (
    ProviderInfo(
        LOCAL,
        "Local (built in, offline)",
        "ai.providers.local.LocalProvider",
        is_external=False,
        needs_key=False,
        help="Runs on this server. Nothing leaves it; no free-text writing.",
    ),
    ProviderInfo(
        "openai",
        "OpenAI, Azure OpenAI or OpenAI-compatible",
        "ai.providers.openai_provider.OpenAIProvider",
        help="Set a base URL for Azure OpenAI or a compatible server (Ollama, vLLM); those may not need a key.",
    ),
    ProviderInfo("anthropic", "Anthropic Claude", "ai.providers.anthropic_provider.AnthropicProvider"),
    ProviderInfo("google", "Google Gemini", "ai.providers.google_provider.GoogleProvider"),
    ProviderInfo(
        "copilot",
        "Microsoft 365 Copilot",
        "ai.providers.copilot_provider.CopilotProvider",
        help="The key is the app registration's client secret; tenant and client ids go in the extra settings.",
    ),
)

_providers: dict[str, ProviderInfo] = {info.name: info for info in _BUILTIN}
_instances: OrderedDict[str, Provider] = OrderedDict()
_lock = threading.Lock()
MAX_CACHED_CLIENTS = 64


def provider_info(name: str) -> ProviderInfo:
    try:
        return _providers[name]
    except KeyError:
        raise Misconfigured(f"Unknown AI provider {name!r}.") from None


def provider_names(*, external_only: bool = False) -> list[str]:
    return [name for name, info in _providers.items() if info.is_external or not external_only]


def provider_choices() -> list[tuple[str, str]]:
    """What a workspace can configure (the local provider is always there and needs no configuration)."""
    return [(info.name, info.label) for info in _providers.values() if info.is_external]


def provider_class(name: str) -> type:
    target = provider_info(name).target
    if isinstance(target, type):
        return target
    module_name, _, class_name = target.rpartition(".")
    try:
        return getattr(import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise Misconfigured(f"The {name} provider is not installed on this server ({error}).") from error


def _client_key(name: str, settings: ProviderSettings) -> str:
    material = json.dumps(
        [name, settings.api_key, settings.base_url, settings.model, settings.timeout_seconds, settings.extra],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(material.encode()).hexdigest()


def build_provider(name: str, settings: ProviderSettings | None = None) -> Provider:
    """A ready client for `name`. Constructed clients are reused (connection pools, msal token caches)."""
    if name == LOCAL and not isinstance(provider_info(LOCAL).target, type):
        from .providers.local import get_local_provider  # one instance per process: its models load once

        return get_local_provider()
    settings = settings or ProviderSettings()
    key = _client_key(name, settings)
    with _lock:
        client = _instances.get(key)
        if client is not None:
            _instances.move_to_end(key)
            return client
    client = provider_class(name)(settings)
    with _lock:
        _instances[key] = client
        while len(_instances) > MAX_CACHED_CLIENTS:
            _instances.popitem(last=False)
    return client


def forget_clients() -> None:
    with _lock:
        _instances.clear()


@contextmanager
def registered(
    name: str, target: str | type, *, label: str = "", is_external: bool = True, needs_key: bool = False
) -> Iterator[ProviderInfo]:
    """Makes `name` available (or replaces it) for the duration of the block; for tests."""
    previous = _providers.get(name)
    info = ProviderInfo(name, label or name, target, is_external=is_external, needs_key=needs_key)
    _providers[name] = info
    forget_clients()
    try:
        yield info
    finally:
        if previous is None:
            _providers.pop(name, None)
        else:
            _providers[name] = previous
        forget_clients()
