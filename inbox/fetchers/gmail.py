"""Gmail and Google Workspace mailboxes through the Gmail API: OAuth consent, history-based sync, sending.

Consent: an admin clicks "Connect with Google"; `google_auth_oauthlib.flow.Flow` (PKCE) sends them to Google's
consent screen with `access_type=offline` and `prompt=consent`, so the callback's code buys a refresh token, kept
encrypted in the mailbox's secrets. The OAuth client is the platform's (GOOGLE_OAUTH_CLIENT_ID/SECRET) unless a
mailbox names its own (`settings["client_id"]` + `secrets["client_secret"]`).

Sync (`gmail_poll`), with the official client (`googleapiclient`, static discovery document):
- the first poll records the account's current `historyId` (`users.getProfile`) and imports the newest INBOX
  messages, at most GMAIL_INITIAL_IMPORT of them;
- later polls list `users.history.list(startHistoryId, historyTypes=messageAdded, labelId=INBOX)` page by page
  and import each added message (`users.messages.get(format=raw)`, base64url) in chunks through
  `inbound_receive_many` (one transaction and one filing task per chunk, as IMAP does);
- after a chunk is committed, each of its messages gets the mailbox's after-import choice through
  `users.messages.modify`: "seen" removes UNREAD, "move" adds the chosen label (created when missing) and removes
  INBOX, "leave" does nothing; a message deleted meanwhile (404) is skipped;
  the cursor becomes the history's `historyId` only once every page's messages are stored;
- a startHistoryId Google no longer keeps (404) starts over as a first poll (bounded; dedupe by Message-ID);
- 429 (rateLimitExceeded), 403 userRateLimitExceeded and 503 are waited out inline when short, otherwise the
  poll stops with `RateLimited`.
Sending is `users.messages.send(raw=...)`.

HTTP: the Google client speaks httplib2's interface; `GuardedHttp` implements it over a requests session from
`core.egress`, so every connection (token refresh included, through google-auth-httplib2) is checked on the
resolved address like any other outbound request. Redirects are not followed (the Gmail API does not redirect).
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httplib2
import requests
from django.conf import settings
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from core.egress import EgressRefused, GuardedHTTPAdapter

from ..models import Mailbox
from . import base
from .base import ChunkedReceiver, CloudMailError, PollResult, RateLimited, short
from .imap import AFTER_LEAVE, AFTER_MOVE, AFTER_SEEN

logger = logging.getLogger(__name__)

SCOPES = [
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.send",
    # Marking imported mail read or moving it under a label (users.messages.modify, labels.create).
    "https://www.googleapis.com/auth/gmail.modify",
]
TIMEOUT_SECONDS = 30
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}


class GuardedHttp:
    """The part of `httplib2.Http` the Google client calls (`request`), over a session guarded by core.egress."""

    def __init__(self, session: requests.Session | None = None, timeout: float = TIMEOUT_SECONDS) -> None:
        self.session = session or base.cloud_session()
        self.timeout = timeout
        self.connections: dict[str, Any] = {}  # google-auth-httplib2 exposes it; nothing is pooled here

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: dict[str, str] | None = None,
        redirections: int = 5,
        connection_type: Any = None,
    ) -> tuple[httplib2.Response, bytes]:
        response = self.session.request(
            method, uri, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
        )
        info = {key.lower(): value for key, value in response.headers.items()}
        info.pop("content-encoding", None)  # requests has already decoded the body
        info["status"] = str(response.status_code)
        info["content-length"] = str(len(response.content))
        return httplib2.Response(info), response.content

    def close(self) -> None:
        self.session.close()


# ---- OAuth consent ---------------------------------------------------------------------------------------------


def oauth_client(mailbox: Mailbox | None = None) -> tuple[str, str]:
    """(client id, client secret): the mailbox's own OAuth client when it has one, else the platform's."""
    if mailbox is not None and (mailbox.settings or {}).get("client_id"):
        return str(mailbox.settings["client_id"]), str(base.mailbox_secrets(mailbox).get("client_secret") or "")
    return str(settings.GOOGLE_OAUTH_CLIENT_ID or ""), str(settings.GOOGLE_OAUTH_CLIENT_SECRET or "")


def consent_configured() -> bool:
    return all(oauth_client())


def consent_flow(redirect_uri: str, *, state: str | None = None, code_verifier: str | None = None) -> Flow:
    client_id, client_secret = oauth_client()
    if not (client_id and client_secret):
        raise CloudMailError(
            "Connecting Gmail needs the platform's Google OAuth client (GOOGLE_OAUTH_CLIENT_ID and _SECRET).",
            temporary=False,
        )
    config = {
        "web": {
            "client_id": client_id,
            "client_secret": client_secret,
            "auth_uri": settings.GOOGLE_OAUTH_AUTH_URL,
            "token_uri": settings.GOOGLE_OAUTH_TOKEN_URL,
            "redirect_uris": [redirect_uri],
        }
    }
    flow = Flow.from_client_config(
        config, scopes=SCOPES, redirect_uri=redirect_uri, state=state, code_verifier=code_verifier
    )
    # The token request goes through the egress guard too (requests-oauthlib's session is a requests.Session).
    session = flow.oauth2session
    session.trust_env = False
    session.verify = base.ca_verify()
    adapter = GuardedHTTPAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return flow


def consent_start(redirect_uri: str) -> tuple[str, str, str]:
    """Google's consent URL, its state and the PKCE verifier (the caller keeps both in the admin's session)."""
    flow = consent_flow(redirect_uri)
    url, state = flow.authorization_url(access_type="offline", prompt="consent", include_granted_scopes="false")
    return url, state, str(flow.code_verifier or "")


def consent_finish(*, redirect_uri: str, state: str, code_verifier: str, code: str) -> tuple[str, str]:
    """Trades the callback's code for tokens; returns (refresh token, the Gmail address that consented)."""
    flow = consent_flow(redirect_uri, state=state, code_verifier=code_verifier)
    try:
        token = flow.fetch_token(code=code)
    except EgressRefused as error:
        raise CloudMailError(str(error), temporary=False) from None
    except requests.RequestException as error:
        raise CloudMailError(f"Could not reach Google's token endpoint ({type(error).__name__}).") from None
    except OAuth2Error as error:
        raise CloudMailError(f"Google refused the consent: {short(error.description or error.error)}",
                             temporary=False) from None  # fmt: skip
    except Warning as changed:  # oauthlib: Google granted other scopes than asked (granular consent)
        token = dict(getattr(changed, "token", None) or {})
    refresh_token = str(token.get("refresh_token") or "")
    if not refresh_token:
        raise CloudMailError("Google granted no offline access (no refresh token); connect again.", temporary=False)
    scope = token.get("scope") or []
    granted = set(scope.split() if isinstance(scope, str) else scope)
    missing = [scope.rsplit("/", 1)[-1] for scope in SCOPES if granted and scope not in granted]
    if missing:
        raise CloudMailError(f"Google's consent left out {', '.join(missing)}: tick every box.", temporary=False)
    with GmailMailbox(None, refresh_token=refresh_token) as gmail:
        profile = gmail.profile()
    return refresh_token, str(profile.get("emailAddress") or "")


# ---- the API -----------------------------------------------------------------------------------------------------


class GmailMailbox:
    """One Gmail account through the official client, with waits for rate limits and our words for errors."""

    def __init__(self, mailbox: Mailbox | None, *, refresh_token: str | None = None) -> None:
        self.mailbox = mailbox
        client_id, client_secret = oauth_client(mailbox)
        stored = base.mailbox_secrets(mailbox) if mailbox is not None else {}
        refresh_token = refresh_token or str(stored.get("refresh_token") or "")
        if not (client_id and client_secret and refresh_token):
            raise CloudMailError("This Gmail mailbox is not connected: connect it with Google again.", temporary=False)
        self.credentials = Credentials(
            token=None,
            refresh_token=refresh_token,
            token_uri=settings.GOOGLE_OAUTH_TOKEN_URL,
            client_id=client_id,
            client_secret=client_secret,
            scopes=SCOPES,
        )
        self.http = AuthorizedHttp(self.credentials, http=GuardedHttp())
        self.service = build(
            "gmail",
            "v1",
            http=self.http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": settings.GMAIL_API_BASE_URL},
        )
        self.waited = 0.0

    def __enter__(self) -> GmailMailbox:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.http.close()  # the guarded session's connections

    def execute(self, request: Any, action: str) -> dict[str, Any]:
        """Runs one API request: short waits honoured (twice at most), failures in our words."""
        waits = 0
        while True:
            try:
                return request.execute(num_retries=0)
            except HttpError as error:
                status, reason, message = _error_of(error)
                if status in (429, 503) or (status == 403 and reason in RATE_LIMIT_REASONS):
                    wait = base.retry_after_seconds(error.resp)
                    if waits < 2 and wait <= base.max_inline_wait():
                        base.sleep(wait)
                        self.waited += wait
                        waits += 1
                        continue
                    raise RateLimited(
                        f"Gmail is rate-limiting this mailbox ({status} {reason or 'rate limited'}); "
                        f"the next poll waits {wait:.0f} s.",
                        retry_after=wait,
                    ) from None
                raise _api_error(status, reason, message, action) from None
            except RefreshError as error:
                raise CloudMailError(
                    f"Google refused the saved consent ({short(_refresh_words(error), 200)}): connect Gmail again.",
                    temporary=False,
                ) from None
            except EgressRefused as error:
                raise CloudMailError(str(error), temporary=False) from None
            except (requests.RequestException, TransportError) as error:
                raise CloudMailError(f"Could not reach Google ({type(error).__name__}).") from None

    def profile(self) -> dict[str, Any]:
        return self.execute(self.service.users().getProfile(userId="me"), "read the account")

    def message_raw(self, message_id: str) -> bytes | None:
        request = self.service.users().messages().get(userId="me", id=message_id, format="raw")
        try:
            message = self.execute(request, "fetch a message")
        except GmailNotFound:
            return None  # deleted since it was listed
        return base64.urlsafe_b64decode(_padded(str(message.get("raw") or "")))

    def modify(self, message_id: str, *, add: list[str], remove: list[str], action: str) -> bool:
        """Changes one message's labels; False when the message is gone (deleted since it was listed)."""
        body = {"addLabelIds": add, "removeLabelIds": remove}
        try:
            self.execute(self.service.users().messages().modify(userId="me", id=message_id, body=body), action)
        except GmailNotFound:
            return False
        return True

    def label_id(self, name: str) -> str:
        """The id of the user label called `name` (case-insensitive, as Gmail compares them), created if missing."""
        labels = self.execute(self.service.users().labels().list(userId="me"), "list the labels").get("labels", [])
        for label in labels:
            if str(label.get("name", "")).casefold() == name.casefold():
                return str(label["id"])
        body = {"name": name, "labelListVisibility": "labelShow", "messageListVisibility": "show"}
        created = self.execute(
            self.service.users().labels().create(userId="me", body=body), f'create the label "{name}"'
        )
        return str(created["id"])

    def send(self, raw: bytes) -> dict[str, Any]:
        body = {"raw": base64.urlsafe_b64encode(raw).decode()}
        return self.execute(self.service.users().messages().send(userId="me", body=body), "send the message")


class GmailNotFound(CloudMailError):
    """404: an unknown message, or a startHistoryId older than Google keeps."""


def gmail_poll(mailbox: Mailbox, *, budget: int | None = None) -> PollResult:
    """Stores what arrived in a Gmail inbox since the last poll (history-based); moves `mailbox.cursor` after."""
    result = PollResult()
    budget = budget or int(getattr(settings, "CLOUDMAIL_MESSAGES_PER_POLL", 200))
    history_id = (mailbox.cursor or {}).get("history_id")
    with GmailMailbox(mailbox) as gmail:
        receiver = ChunkedReceiver(mailbox, "gmail", result, AfterImport(gmail, mailbox))
        if history_id:
            try:
                _history_sync(gmail, receiver, str(history_id), budget)
            except GmailNotFound:
                logger.info("gmail: %s history %s expired, re-syncing", mailbox.address, history_id)
                receiver.flush()
                _full_sync(gmail, receiver)
        else:
            _full_sync(gmail, receiver)
        result.waited = gmail.waited
    return result


class AfterImport:
    """The mailbox's after-import choice, applied to one message at a time (the move label is looked up once)."""

    def __init__(self, gmail: GmailMailbox, mailbox: Mailbox) -> None:
        self.gmail = gmail
        self.action = str((mailbox.settings or {}).get("after_import") or AFTER_LEAVE)
        self.move_to = str((mailbox.settings or {}).get("move_to") or "").strip()
        self.labels: tuple[list[str], list[str]] | None = None

    def __call__(self, message_id: str) -> None:
        if self.action == AFTER_SEEN:
            self.gmail.modify(message_id, add=[], remove=["UNREAD"], action="mark a message as read")
        elif self.action == AFTER_MOVE and self.move_to:
            if self.labels is None:
                self.labels = ([self.gmail.label_id(self.move_to)], ["INBOX"])
            add, remove = self.labels
            self.gmail.modify(message_id, add=add, remove=remove, action=f'move a message to "{self.move_to}"')


def _full_sync(gmail: GmailMailbox, receiver: ChunkedReceiver) -> None:
    # The history id is read first: whatever arrives while the inbox is listed is in the next poll's history.
    history_id = str(gmail.profile().get("historyId") or "")
    limit = int(getattr(settings, "GMAIL_INITIAL_IMPORT", 100))
    listing = gmail.execute(
        gmail.service.users().messages().list(userId="me", labelIds=["INBOX"], maxResults=min(limit, 500)),
        "list the inbox",
    )
    # Oldest first, so tickets open in the order the mail came.
    for item in reversed(listing.get("messages", [])[:limit]):
        _import(gmail, receiver, str(item["id"]))
    receiver.flush()
    _cursor_save(receiver.mailbox, {"history_id": history_id})


def _history_sync(gmail: GmailMailbox, receiver: ChunkedReceiver, history_id: str, budget: int) -> None:
    mailbox, result = receiver.mailbox, receiver.result
    history = gmail.service.users().history()
    page_token = None
    latest = history_id
    while True:
        request = history.list(
            userId="me",
            startHistoryId=history_id,
            historyTypes=["messageAdded"],
            labelId="INBOX",
            pageToken=page_token,
        )
        page = gmail.execute(request, "read the mailbox history")
        records = page.get("history", [])
        for record in records:
            for added in record.get("messagesAdded", []):
                message = added.get("message") or {}
                if message.get("id") and "INBOX" in (message.get("labelIds") or ["INBOX"]):
                    _import(gmail, receiver, str(message["id"]))
        latest = str(page.get("historyId") or latest)
        page_token = page.get("nextPageToken")
        if not page_token:
            break
        if result.seen >= budget and records:
            # Enough for one poll: the next one lists the history after the last record stored here.
            receiver.flush()
            _cursor_save(mailbox, {"history_id": str(records[-1]["id"])})
            result.complete = False
            return
    # Every page's messages are stored: only now does the cursor move (a crash re-reads, dedupe makes it a no-op).
    receiver.flush()
    _cursor_save(mailbox, {"history_id": latest})


def _import(gmail: GmailMailbox, receiver: ChunkedReceiver, message_id: str) -> None:
    receiver.result.seen += 1
    receiver.add(message_id, gmail.message_raw(message_id))


def gmail_test(mailbox: Mailbox) -> str:
    with GmailMailbox(mailbox) as gmail:
        profile = gmail.profile()
    address = profile.get("emailAddress") or mailbox.address
    return f"Connected to {address} ({profile.get('messagesTotal', 0)} messages)."


def gmail_send(mailbox: Mailbox, raw_bytes: bytes, envelope_from: str, recipients: list[str]) -> str:
    """The transport for Gmail mailboxes: sends the MIME message as the account through the Gmail API.

    Gmail takes the recipients from the headers (a Bcc header is added for those they do not name) and sends as
    the account, so `envelope_from` is not used. Returns Gmail's answer; raises CloudMailError."""
    with GmailMailbox(mailbox) as gmail:
        sent = gmail.send(base.with_bcc(raw_bytes, recipients))
    return f"Accepted by Gmail (id {sent.get('id', '?')})"


def _error_of(error: HttpError) -> tuple[int, str, str]:
    status = int(getattr(error.resp, "status", 0) or 0)
    try:
        document = json.loads(error.content.decode("utf-8", "replace"))
        detail = document.get("error") or {}
        reasons = [item.get("reason", "") for item in detail.get("errors") or [] if isinstance(item, dict)]
        return status, (reasons[0] if reasons else str(detail.get("status") or "")), str(detail.get("message") or "")
    except (ValueError, AttributeError):
        return status, "", ""


def _api_error(status: int, reason: str, message: str, action: str) -> CloudMailError:
    words = short(f"{status} {reason}: {message}" if message else f"{status} {reason}".strip(), 240)
    if status == 404:
        return GmailNotFound(f"Gmail found nothing to {action} ({words}).", temporary=False)
    hint = " Connect Gmail again and grant every permission." if status in (401, 403) else ""
    return CloudMailError(f"Gmail refused to {action} ({words}).{hint}", temporary=status >= 500)


def _refresh_words(error: RefreshError) -> str:
    detail = error.args[0] if error.args else str(error)
    return str(detail)


def _padded(value: str) -> str:
    return value + "=" * (-len(value) % 4)


def _cursor_save(mailbox: Mailbox, cursor: dict[str, Any]) -> None:
    mailbox.cursor = cursor
    Mailbox.objects.filter(pk=mailbox.pk).update(cursor=cursor)
