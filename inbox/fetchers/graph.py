"""Microsoft 365 mailboxes through Microsoft Graph: app-only tokens from msal, delta polling of the inbox, sending.

The app registration (tenant id, client id, client secret) holds the Mail.Read and Mail.Send *application*
permissions with admin consent; msal's client-credentials grant gets a token for `https://graph.microsoft.com/
.default`. Polling follows the inbox's delta query: the first round lists the inbox page by page
(`@odata.nextLink`) and ends with an `@odata.deltaLink`, kept in `Mailbox.cursor`, from which each later poll
lists only what changed. Each new message is fetched as raw MIME (`/messages/{id}/$value`) and stored in chunks
by `inbound_receive_many`; the cursor moves only after a page's messages are stored, so a crash re-reads at most
one page (the Message-ID makes that a no-op). A delta link Graph no longer knows (410, syncStateNotFound) restarts
the delta round. 429/503 are waited out inline when Retry-After is short, otherwise the poll stops with
`RateLimited`; a 401 re-acquires the token once. Links Graph hands back are followed only on the configured
Graph origin, so a bearer token never leaves for another host.

Sending posts the MIME message base64-encoded to `/users/{address}/sendMail` (Content-Type text/plain), which
Graph answers 202 with no body.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections import OrderedDict
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import msal
import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.egress import EgressRefused

from ..models import Mailbox
from . import base
from .base import ChunkedReceiver, CloudMailError, PollResult, RateLimited, short

logger = logging.getLogger(__name__)

GRAPH_SCOPES = ["https://graph.microsoft.com/.default"]
TIMEOUT_SECONDS = 30
PAGE_SIZE = 50
# Entra ID errors that will not go away by themselves: wrong secret, unknown app or tenant, no consent.
PERMANENT_TOKEN_ERRORS = {"invalid_client", "unauthorized_client", "invalid_request", "invalid_scope"}
MAX_CACHED_APPS = 256

# msal applications per workspace, mailbox and app identity (the secret's hash included, so a changed secret is a
# new app). Each keeps its app-only token in memory until near expiry: polling every minute asks Entra ID for a
# token about once an hour per worker process, not on every poll. Never shared across workspaces (schema in key).
# Each has its own lock (msal's cache is not thread-safe); `_apps_lock` only guards the dictionary.
_apps: OrderedDict[tuple[str, ...], tuple[msal.ConfidentialClientApplication, threading.Lock]] = OrderedDict()
_apps_lock = threading.Lock()


class GraphMailbox:
    """One Microsoft 365 mailbox as the app sees it: a token, and Graph requests that wait, retry and re-auth."""

    def __init__(self, mailbox: Mailbox) -> None:
        options = mailbox.settings or {}
        self.mailbox = mailbox
        self.address = mailbox.address
        self.tenant_id = str(options.get("tenant_id") or "").strip()
        self.client_id = str(options.get("client_id") or "").strip()
        self.client_secret = str(base.mailbox_secrets(mailbox).get("client_secret") or "")
        self.login_base = str(settings.MICROSOFT_LOGIN_BASE_URL).rstrip("/")
        self.graph_base = str(settings.MICROSOFT_GRAPH_BASE_URL).rstrip("/")
        self.session = base.cloud_session()
        self._token: str | None = None
        self.waited = 0.0

    def __enter__(self) -> GraphMailbox:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.session.close()  # Graph's connections (the msal application keeps its own for the next poll)

    @property
    def user_path(self) -> str:
        return f"{self.graph_base}/v1.0/users/{quote(self.address, safe='@')}"

    # ---- tokens ------------------------------------------------------------------------------------------------
    def token(self) -> str:
        if self._token is None:
            self._token = self._acquire_token()
        return self._token

    def forget_token(self) -> None:
        """Graph refused the token (expired or revoked early): drop it here and in msal's cache."""
        self._token = None
        with _apps_lock:
            cached = _apps.get(self._app_key())
        if cached is not None:
            app, lock = cached
            with lock:
                for entry in list(app.token_cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                    app.token_cache.remove_at(entry)

    def _app_key(self) -> tuple[str, ...]:
        secret = hashlib.sha256(self.client_secret.encode()).hexdigest()
        return (connection.schema_name, str(self.mailbox.pk), self.login_base, self.tenant_id, self.client_id, secret)

    def _app(self) -> tuple[msal.ConfidentialClientApplication, threading.Lock]:
        key = self._app_key()
        with _apps_lock:
            cached = _apps.pop(key, None)
            if cached is not None:
                _apps[key] = cached  # most recently used last
                return cached
        identity = base.cloud_session()
        # msal takes no timeout with a custom http_client: bind one to the session.
        identity.request = _with_timeout(identity.request)  # type: ignore[method-assign]
        app = msal.ConfidentialClientApplication(  # reads the authority's OpenID configuration (network)
            self.client_id,
            authority=f"{self.login_base}/{self.tenant_id}",
            client_credential=self.client_secret,
            http_client=identity,
            instance_discovery=False,
        )
        with _apps_lock:
            cached = _apps.setdefault(key, (app, threading.Lock()))
            while len(_apps) > MAX_CACHED_APPS:
                _apps.popitem(last=False)
        return cached

    def _acquire_token(self) -> str:
        missing = [
            name
            for name, value in (
                ("tenant id", self.tenant_id),
                ("client id", self.client_id),
                ("client secret", self.client_secret),
            )
            if not value
        ]
        if missing:
            raise CloudMailError(f"The Microsoft 365 connection needs the app's {', '.join(missing)}.", temporary=False)
        try:
            app, lock = self._app()  # authority discovery happens here: it can fail like the token request
            with lock:
                result = app.acquire_token_for_client(scopes=GRAPH_SCOPES)
        except EgressRefused as error:
            raise CloudMailError(str(error), temporary=False) from None
        except requests.RequestException as error:
            raise CloudMailError(f"Could not reach Microsoft Entra ID: {_transport_words(error)}") from None
        except ValueError:  # msal: "Unable to get authority configuration" (unknown tenant or host)
            raise CloudMailError(
                f"Microsoft Entra ID does not know the tenant '{self.tenant_id}': check the tenant id.",
                temporary=False,
            ) from None
        if "access_token" not in result:
            code = str(result.get("error") or "unknown_error")
            detail = str(result.get("error_description") or code).split(" Trace ID:")[0]
            raise CloudMailError(
                f"Microsoft Entra ID refused a token ({code}): {short(detail.replace(self.client_secret, '[secret]'))}",
                temporary=code not in PERMANENT_TOKEN_ERRORS,
            )
        return str(result["access_token"])

    # ---- Graph requests ----------------------------------------------------------------------------------------
    def request(self, method: str, url: str, **options: Any) -> requests.Response:
        """A Graph request with the app's token: a 401 gets one fresh token, a short Retry-After is waited out."""
        self._check_origin(url)
        extra_headers = options.pop("headers", {})
        reauthenticated = False
        waits = 0
        while True:
            headers = {"Authorization": f"Bearer {self.token()}"} | extra_headers
            try:
                response = self.session.request(method, url, headers=headers, timeout=TIMEOUT_SECONDS, **options)
            except EgressRefused as error:
                raise CloudMailError(str(error), temporary=False) from None
            except requests.RequestException as error:
                raise CloudMailError(f"Could not reach Microsoft Graph: {_transport_words(error)}") from None
            if response.status_code == 401 and not reauthenticated:
                self.forget_token()  # expired or revoked early: ask Entra ID once more
                reauthenticated = True
                continue
            if response.status_code in (429, 503):
                wait = base.retry_after_seconds(response.headers)
                if waits < 2 and wait <= base.max_inline_wait():
                    logger.info("graph: %s asked to wait %.1f s (%s)", self.address, wait, response.status_code)
                    base.sleep(wait)
                    self.waited += wait
                    waits += 1
                    continue
                raise RateLimited(
                    f"Microsoft Graph is throttling this mailbox ({response.status_code}); "
                    f"the next poll waits {wait:.0f} s as it asked.",
                    retry_after=wait,
                )
            return response

    def _check_origin(self, url: str) -> None:
        expected, actual = urlsplit(self.graph_base), urlsplit(url)
        if (actual.scheme, actual.netloc) != (expected.scheme, expected.netloc):
            raise CloudMailError(
                f"Microsoft Graph sent a link to another host ({actual.netloc}); it was not followed.", temporary=False
            )

    def error(self, response: requests.Response, action: str) -> CloudMailError:
        code, message = graph_error_of(response)
        words = f"{code}: {message}" if message else code
        temporary = response.status_code >= 500 or response.status_code == 429
        hint = ""
        if response.status_code == 403:
            hint = " Grant the app the Mail.Read and Mail.Send application permissions, with admin consent."
        elif response.status_code == 404:
            hint = f" Check that {self.address} is a mailbox of this Microsoft 365 tenant."
        return CloudMailError(
            f"Microsoft Graph refused to {action} ({response.status_code} {short(words, 200)}).{hint}",
            temporary=temporary,
        )

    # ---- what the inbox does ------------------------------------------------------------------------------------
    def inbox_read(self) -> dict[str, Any]:
        """The inbox folder (its counts): proves the token works and the app may read this mailbox."""
        response = self.request("GET", f"{self.user_path}/mailFolders/inbox")
        if response.status_code != 200:
            raise self.error(response, "read the inbox")
        return response.json()

    def message_raw(self, message_id: str) -> bytes | None:
        response = self.request("GET", f"{self.user_path}/messages/{quote(message_id, safe='')}/$value")
        if response.status_code == 404:
            return None  # deleted since the delta page listed it
        if response.status_code != 200:
            raise self.error(response, "fetch a message")
        return response.content

    def send(self, raw: bytes) -> None:
        response = self.request(
            "POST",
            f"{self.user_path}/sendMail",
            data=base64.b64encode(raw),
            headers={"Content-Type": "text/plain"},
        )
        if response.status_code not in (200, 202):
            raise self.error(response, "send the message")


def graph_poll(mailbox: Mailbox, *, budget: int | None = None) -> PollResult:
    """Stores what arrived in a Microsoft 365 inbox since the last poll; moves `mailbox.cursor` page by page."""
    budget = budget or int(getattr(settings, "CLOUDMAIL_MESSAGES_PER_POLL", 200))
    with GraphMailbox(mailbox) as client:
        result = _delta_sync(client, mailbox, budget)
        result.waited = client.waited
    return result


def _delta_sync(client: GraphMailbox, mailbox: Mailbox, budget: int) -> PollResult:
    result = PollResult()
    initial = _initial_delta_url(client)
    cursor = mailbox.cursor or {}
    url = cursor.get("next_link") or cursor.get("delta_link") or initial
    restarted = False
    while True:
        response = client.request("GET", url, headers={"Prefer": f"odata.maxpagesize={PAGE_SIZE}"})
        if _sync_state_lost(response) and not restarted:
            logger.info("graph: %s delta state lost (%s), restarting", mailbox.address, response.status_code)
            restarted, url = True, initial
            continue
        if response.status_code != 200:
            raise client.error(response, "list new messages")
        page = response.json()
        _page_import(client, mailbox, page.get("value", []), result)
        next_link, delta_link = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
        # This page's messages are committed (each chunk commits): only now does the cursor move.
        _cursor_save(mailbox, {"next_link": next_link} if next_link else {"delta_link": delta_link or url})
        if not next_link:
            return result
        if result.seen >= budget:
            result.complete = False
            return result
        url = next_link


def _page_import(client: GraphMailbox, mailbox: Mailbox, items: list[dict[str, Any]], result: PollResult) -> None:
    """Stores a page's messages in chunks (one transaction and one filing task each, as IMAP does)."""
    receiver = ChunkedReceiver(mailbox, "graph", result)
    for item in items:
        if "@removed" in item or not item.get("id"):
            continue
        result.seen += 1
        receiver.add(str(item["id"]), client.message_raw(str(item["id"])))
    receiver.flush()


def _initial_delta_url(client: GraphMailbox) -> str:
    # Only what arrived recently: a new mailbox's years of old mail must not all become tickets. Graph keeps the
    # filter and `changeType=created` in its next and delta links, so later rounds list only new messages.
    since = timezone.now() - timedelta(days=float(getattr(settings, "MICROSOFT365_INITIAL_DAYS", 7)))
    query = urlencode(
        {"changeType": "created", "$select": "id", "$filter": f"receivedDateTime ge {since:%Y-%m-%dT%H:%M:%SZ}"},
        quote_via=quote,
        safe="$:",
    )
    return f"{client.user_path}/mailFolders/inbox/messages/delta?{query}"


def graph_test(mailbox: Mailbox) -> str:
    """Gets a token and reads the inbox: a sentence saying what was found, or CloudMailError."""
    with GraphMailbox(mailbox) as client:
        folder = client.inbox_read()
    total = folder.get("totalItemCount")
    counted = f" ({total} messages in the inbox)." if total is not None else "."
    return f"Connected: the app reads {mailbox.address}{counted}"


def graph_send(mailbox: Mailbox, raw_bytes: bytes, envelope_from: str, recipients: list[str]) -> str:
    """The transport for Microsoft 365 mailboxes: sends the MIME message as the mailbox through Graph.

    `envelope_from` has no place in Graph (the mailbox is the sender; bounces come back to it). Returns Graph's
    answer for the delivery record; raises CloudMailError (`temporary` says whether a retry may help)."""
    with GraphMailbox(mailbox) as client:
        client.send(base.with_bcc(raw_bytes, recipients))
    return "202 Accepted by Microsoft Graph"


def graph_error_of(response: requests.Response) -> tuple[str, str]:
    """Graph's `{"error": {"code", "message"}}`, or the status alone when the body is something else."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    return str(error.get("code") or response.reason or response.status_code), str(error.get("message") or "")


def _sync_state_lost(response: requests.Response) -> bool:
    if response.status_code == 410:
        return True
    if response.status_code == 400:
        code = graph_error_of(response)[0].lower()
        return "syncstate" in code or "resyncrequired" in code
    return False


def _cursor_save(mailbox: Mailbox, cursor: dict[str, Any]) -> None:
    mailbox.cursor = cursor
    Mailbox.objects.filter(pk=mailbox.pk).update(cursor=cursor)


def _with_timeout(request: Any) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", TIMEOUT_SECONDS)
        return request(*args, **kwargs)

    return timed


def _transport_words(error: Exception) -> str:
    if isinstance(error, requests.exceptions.SSLError):
        return "its TLS certificate is not trusted."
    if isinstance(error, requests.Timeout):
        return f"no answer within {TIMEOUT_SECONDS} s."
    return "the connection failed."
