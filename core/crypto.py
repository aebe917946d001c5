"""Secrets at rest (AI provider keys, mailbox passwords and tokens): Fernet tokens with keys derived from secrets.

Keys come from `AI_ENCRYPTION_KEYS` (setting or environment variable, comma separated, newest first), falling
back to `SECRET_KEY` followed by `SECRET_KEY_FALLBACKS`. The development SECRET_KEY published in the source is never
used: with it and no AI_ENCRYPTION_KEYS nothing is encrypted (EncryptionKeyMissing), because anyone could decrypt
it. Production requires AI_ENCRYPTION_KEYS (config.settings.production); `make run` generates a key per checkout,
the tests configure their own. Each secret is stretched with HKDF-SHA256 and a salt per
purpose, so the same secret never yields the same key for two uses (API keys vs anything added later), and the
Django signing key is never used as a Fernet key directly.

Rotation: put the new secret first and keep the old ones after it. Tokens made with any listed secret still
decrypt; new tokens (and `rotate()`) use the first. Every app registers the model fields it encrypts
(`encrypted_field_register`, in its AppConfig.ready); once `manage.py secrets_reencrypt` has rotated them in every
workspace, drop the old secret.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.deployment import is_published_secret

PROVIDER_KEY_PURPOSE = "ai.provider-api-key"


class DecryptionFailed(Exception):
    """No configured secret opens the token: the secret it was made with was removed."""


class EncryptionKeyMissing(ImproperlyConfigured):
    """No secret of this deployment's own to encrypt with (only the published development key)."""


def _secrets() -> tuple[str, ...]:
    configured = getattr(settings, "AI_ENCRYPTION_KEYS", None) or os.environ.get("AI_ENCRYPTION_KEYS", "")
    if isinstance(configured, str):
        configured = [item.strip() for item in configured.split(",")]
    secrets = tuple(item for item in configured if item)
    if not secrets:
        secrets = (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()))
    secrets = tuple(secret for secret in secrets if not is_published_secret(secret))
    if not secrets:
        raise EncryptionKeyMissing(
            "AI provider keys cannot be stored: set AI_ENCRYPTION_KEYS (or a SECRET_KEY of your own); "
            "the development SECRET_KEY is published in the source, so anything encrypted with it could be read."
        )
    return secrets


def _derive(secret: str, purpose: str) -> Fernet:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=f"switchboard:{purpose}".encode(),
        info=b"switchboard fernet key",
    )
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret.encode())))


@lru_cache(maxsize=16)
def _fernet(secrets: tuple[str, ...], purpose: str) -> MultiFernet:
    return MultiFernet([_derive(secret, purpose) for secret in secrets])


def encrypt(plaintext: str, *, purpose: str = PROVIDER_KEY_PURPOSE) -> str:
    if not plaintext:
        return ""
    return _fernet(_secrets(), purpose).encrypt(plaintext.encode()).decode()


def decrypt(token: str, *, purpose: str = PROVIDER_KEY_PURPOSE) -> str:
    if not token:
        return ""
    try:
        return _fernet(_secrets(), purpose).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise DecryptionFailed(
            "The stored key cannot be decrypted: the secret it was encrypted with is no longer configured "
            "(AI_ENCRYPTION_KEYS / SECRET_KEY). Enter the API key again."
        ) from error


def rotate(token: str, *, purpose: str = PROVIDER_KEY_PURPOSE) -> str:
    """The same secret, re-encrypted with the newest key."""
    if not token:
        return ""
    try:
        return _fernet(_secrets(), purpose).rotate(token.encode()).decode()
    except InvalidToken as error:
        raise DecryptionFailed("The stored key cannot be decrypted with any configured secret.") from error


_ENCRYPTED_FIELDS: dict[tuple[str, str], tuple[Any, str]] = {}


def encrypted_field_register(model: Any, field: str, *, purpose: str) -> None:
    """Declares that `model.field` holds tokens made with `purpose`, so key rotation re-encrypts them."""
    _ENCRYPTED_FIELDS[(model._meta.label, field)] = (model, purpose)


def encrypted_fields_rotate() -> int:
    """Re-encrypts every registered token of the current schema with the newest secret; returns how many."""
    count = 0
    for (_, field), (model, purpose) in sorted(_ENCRYPTED_FIELDS.items()):
        for pk, token in model.objects.exclude(**{field: ""}).values_list("pk", field).iterator():
            model.objects.filter(pk=pk).update(**{field: rotate(token, purpose=purpose)})
            count += 1
    return count


def key_hint(plaintext: str) -> str:
    """Enough of a key to recognise it ("…a1b2"), never enough to use it; short keys show nothing."""
    plaintext = plaintext.strip()
    return f"…{plaintext[-4:]}" if len(plaintext) >= 12 else ("…" if plaintext else "")
