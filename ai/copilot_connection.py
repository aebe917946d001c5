"""Microsoft 365 Copilot's delegated sign-in for a workspace: start it, finish it, disconnect, and the stored grant.

The Copilot Chat API accepts only a signed-in user's token, so a workspace admin connects their Microsoft account
once from the AI settings. Starting gives the browser Microsoft's authorize URL and a `PendingSignIn` the view keeps
in the admin's session (msal's flow: state, PKCE verifier, nonce); Microsoft sends the browser back to the
workspace's own host, and finishing checks that the answer belongs to the sign-in this workspace, this admin and
this browser started, before msal redeems the code. The msal token cache is stored encrypted on the provider row
(`oauth_token_cache_encrypted`, Fernet with its own key purpose) with what the page shows (`oauth_connection`:
account, who connected it and when, granted scopes, status and why it stopped working).

`DatabaseTokenStore` is how the provider finds the grant on every call: in the current workspace schema, the
Copilot row with the provider's tenant and client id (when several share an app registration, the one connected
last). Writes use `update()`, so a token refresh does not flush the workspace's AI cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import crypto

from .models import ProviderConfig
from .providers.base import ProviderSettings
from .providers.copilot_provider import CopilotProvider, StoredGrant

TOKEN_CACHE_PURPOSE = "ai.copilot-token-cache"
SESSION_KEY = "ai.copilot_sign_in"
SIGN_IN_MAX_AGE_SECONDS = 15 * 60
CONNECTED, REVOKED = "connected", "revoked"
UNREADABLE = "the stored sign-in cannot be decrypted (the server's encryption key changed)"


class SignInRejected(Exception):
    """The answer from Microsoft cannot finish a sign-in here; `status` is the HTTP status the view answers."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CopilotConnection:
    """A provider row's Microsoft 365 sign-in, as the settings page shows it."""

    status: str = ""  # "" never connected (or disconnected), "connected", "revoked"
    account: str = ""
    name: str = ""
    connected_by: str = ""
    connected_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    problem: str = ""

    @property
    def connected(self) -> bool:
        return self.status == CONNECTED

    @property
    def revoked(self) -> bool:
        return self.status == REVOKED

    @classmethod
    def of(cls, config: ProviderConfig) -> CopilotConnection:
        data = config.oauth_connection or {}
        return cls(
            status=str(data.get("status") or ""),
            account=str(data.get("account") or ""),
            name=str(data.get("name") or ""),
            connected_by=str(data.get("connected_by") or ""),
            connected_at=parse_datetime(str(data.get("connected_at") or "")),
            scopes=tuple(data.get("scopes") or ()),
            problem=str(data.get("problem") or ""),
        )


@dataclass(frozen=True)
class PendingSignIn:
    """A started sign-in, kept in the admin's session until Microsoft sends the browser back."""

    flow: dict[str, Any]
    config_id: int
    user_id: int
    schema: str
    started: float = field(default_factory=time.time)

    @property
    def auth_uri(self) -> str:
        return str(self.flow.get("auth_uri") or "")

    def as_session(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "config_id": self.config_id,
            "user_id": self.user_id,
            "schema": self.schema,
            "started": self.started,
        }

    @classmethod
    def from_session(cls, data: Any) -> PendingSignIn | None:
        if not isinstance(data, dict) or not isinstance(data.get("flow"), dict):
            return None
        try:
            return cls(data["flow"], int(data["config_id"]), int(data["user_id"]), str(data["schema"]), data["started"])
        except (KeyError, TypeError, ValueError):
            return None


# --- The provider for a row -----------------------------------------------------------------------------


def _provider(config: ProviderConfig) -> CopilotProvider:
    settings = ProviderSettings(
        api_key=crypto.decrypt(config.api_key_encrypted),
        base_url=config.base_url,
        model=config.model,
        timeout_seconds=config.timeout_seconds,
        extra=dict(config.extra or {}),
    )
    return CopilotProvider(settings)


def copilot_config_get(*, config_id: int) -> ProviderConfig:
    """The workspace's Copilot row; DoesNotExist for any other provider."""
    return ProviderConfig.objects.get(pk=config_id, provider="copilot")


# --- Services -------------------------------------------------------------------------------------------


def copilot_sign_in_start(*, config: ProviderConfig, user, redirect_uri: str) -> PendingSignIn:
    """msal's flow for Microsoft's authorize page. Raises ProviderError when the settings or Entra ID are wrong."""
    flow = _provider(config).start_sign_in(redirect_uri)
    return PendingSignIn(flow=flow, config_id=config.pk, user_id=user.pk, schema=connection.schema_name)


def copilot_sign_in_finish(*, pending: PendingSignIn | None, user, params: dict[str, str]) -> ProviderConfig:
    """Redeems Microsoft's answer for the sign-in this workspace and admin started, and stores the grant.

    Raises SignInRejected (the answer is not for this sign-in) or ProviderError (Microsoft refused)."""
    if pending is None:
        raise SignInRejected(
            "No Microsoft 365 sign-in was started from this workspace in this browser, or it was already finished. "
            "Start again with “Connect Microsoft 365” in AI settings."
        )
    if pending.schema != connection.schema_name:
        raise SignInRejected("This Microsoft 365 sign-in was started in another workspace: finish it there.")
    if pending.user_id != user.pk:
        raise SignInRejected("Only the admin who started this Microsoft 365 sign-in can finish it.", status=403)
    if not params.get("state") or params.get("state") != pending.flow.get("state"):
        raise SignInRejected(
            "The answer from Microsoft does not belong to the sign-in this browser started. "
            "Start again with “Connect Microsoft 365” in AI settings."
        )
    if time.time() - float(pending.started) > SIGN_IN_MAX_AGE_SECONDS:
        raise SignInRejected("The Microsoft 365 sign-in took too long. Start again in AI settings.")
    try:
        config = copilot_config_get(config_id=pending.config_id)
    except ProviderConfig.DoesNotExist:
        raise SignInRejected("The Copilot provider this sign-in was for no longer exists.", status=404) from None
    sign_in = _provider(config).finish_sign_in(pending.flow, params)
    data = {
        "status": CONNECTED,
        "account": sign_in.account,
        "name": sign_in.name,
        "client_key": sign_in.client_key,
        "connected_by": user.get_full_name() or user.email,
        "connected_by_id": user.pk,
        "connected_at": timezone.now().isoformat(),
        "scopes": list(sign_in.scopes),
    }
    encrypted = crypto.encrypt(sign_in.cache, purpose=TOKEN_CACHE_PURPOSE)
    ProviderConfig.objects.filter(pk=config.pk).update(oauth_token_cache_encrypted=encrypted, oauth_connection=data)
    config.oauth_token_cache_encrypted, config.oauth_connection = encrypted, data
    return config


def copilot_disconnect(*, config: ProviderConfig) -> None:
    """Forgets the stored tokens. (Consent stays granted in Microsoft Entra until an admin removes it there.)"""
    ProviderConfig.objects.filter(pk=config.pk).update(oauth_token_cache_encrypted="", oauth_connection={})
    config.oauth_token_cache_encrypted, config.oauth_connection = "", {}


# --- Where the provider finds the grant -----------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseTokenStore:
    """The current workspace's stored grant for one app registration (see the module docstring)."""

    tenant_id: str
    client_id: str

    def load(self) -> StoredGrant | None:
        rows = ProviderConfig.objects.filter(
            provider="copilot", extra__tenant_id=self.tenant_id, extra__client_id=self.client_id
        ).exclude(oauth_connection={})
        rows = sorted(rows, key=lambda row: str(row.oauth_connection.get("connected_at") or ""), reverse=True)
        if not rows:
            return None
        row, data = rows[0], rows[0].oauth_connection
        grant = StoredGrant(
            cache="",
            client_key=str(data.get("client_key") or ""),
            account=str(data.get("account") or ""),
            revoked=str(data.get("problem") or "") if data.get("status") == REVOKED else "",
            key=row.pk,
        )
        if grant.revoked:
            return grant
        try:
            cache = crypto.decrypt(row.oauth_token_cache_encrypted, purpose=TOKEN_CACHE_PURPOSE)
        except crypto.DecryptionFailed:
            return StoredGrant(cache="", client_key=grant.client_key, account=grant.account, revoked=UNREADABLE)
        return StoredGrant(cache=cache, client_key=grant.client_key, account=grant.account, key=row.pk)

    def save(self, grant: StoredGrant, cache: str) -> None:
        encrypted = crypto.encrypt(cache, purpose=TOKEN_CACHE_PURPOSE)
        ProviderConfig.objects.filter(pk=grant.key).exclude(oauth_connection={}).update(
            oauth_token_cache_encrypted=encrypted
        )

    def revoke(self, grant: StoredGrant, reason: str) -> None:
        row = ProviderConfig.objects.filter(pk=grant.key).only("oauth_connection").first()
        if row is None or not row.oauth_connection:
            return
        data = dict(row.oauth_connection, status=REVOKED, problem=reason, revoked_at=timezone.now().isoformat())
        ProviderConfig.objects.filter(pk=row.pk).update(oauth_token_cache_encrypted="", oauth_connection=data)
