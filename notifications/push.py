"""Web Push: the deployment's VAPID key pair (made once, kept in a file under var/ or given by the environment) and
sending one notice to every browser a person subscribed, encrypted (aes128gcm) and signed (VAPID) by pywebpush,
over a requests session that passes the egress guard."""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.utils import timezone
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from core.egress import guarded_requests_session

from .models import PushSubscription
from .senders import PermanentFailure

logger = logging.getLogger(__name__)
TTL_SECONDS = 24 * 60 * 60
TIMEOUT_SECONDS = 10
GONE = {404, 410}  # the browser unsubscribed: the subscription is deleted
_lock = threading.Lock()


def _key_file() -> Path:
    return Path(getattr(settings, "NOTIFICATIONS_VAPID_KEY_FILE", "") or Path(settings.BASE_DIR) / "var" / "vapid.pem")


@cache
def vapid() -> Vapid02:
    """The deployment's key: NOTIFICATIONS_VAPID_PRIVATE_KEY (PEM or base64 DER), else the key file, made on first
    use (browsers' subscriptions are bound to the public key, so it must outlive restarts: never per process)."""
    given = getattr(settings, "NOTIFICATIONS_VAPID_PRIVATE_KEY", "")
    if given:
        return Vapid02.from_pem(given.encode()) if "BEGIN" in given else Vapid02.from_string(given)
    path = _key_file()
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Vapid02()
            key.generate_keys()
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(key.private_pem())
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)  # another process may have made it meanwhile: the first one wins
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
    return Vapid02.from_file(str(path))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def application_server_key() -> str:
    """The public key as the browser's `pushManager.subscribe` wants it (uncompressed point, base64url)."""
    raw = vapid().public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64(raw)


def _claims() -> dict:
    return {"sub": getattr(settings, "NOTIFICATIONS_VAPID_SUBJECT", "") or "mailto:no-reply@switchboard.test"}


def push_send(delivery) -> str:
    """Sends to each of the person's browsers; a gone one is forgotten. Raises (to retry) when none took it and
    at least one failed for a reason that may pass."""
    subscriptions = list(PushSubscription.objects.filter(user_id=delivery.user_id))
    if not subscriptions:
        raise PermanentFailure("No browser is subscribed to push.")
    payload = json.dumps({"title": delivery.title, "body": delivery.body, "url": delivery.link or "/notifications/"})
    session = guarded_requests_session()
    accepted, errors = [], []
    for subscription in subscriptions:
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        try:
            response = webpush(
                info,
                data=payload,
                vapid_private_key=vapid(),
                vapid_claims=_claims(),
                content_encoding="aes128gcm",
                ttl=TTL_SECONDS,
                timeout=TIMEOUT_SECONDS,
                requests_session=session,
            )
        except WebPushException as error:
            status = getattr(error.response, "status_code", None)
            if status in GONE:
                subscription.delete()
                errors.append(f"{status}: subscription gone")
                continue
            errors.append(f"{status or 'no answer'}: {error}")
            continue
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
            continue
        accepted.append(str(response.status_code))
        PushSubscription.objects.filter(pk=subscription.pk).update(last_used=timezone.now())
    if accepted:
        return f"accepted by {len(accepted)} browser(s) ({', '.join(accepted)})"
    if all(error.endswith("subscription gone") for error in errors):
        raise PermanentFailure("; ".join(errors))
    raise RuntimeError("; ".join(errors))
