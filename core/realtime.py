"""Live updates: tenant-scoped group names, HTML pushes that leave only after the transaction commits, and topics.

A topic is a group a page joins on purpose ("ticket.42": everyone looking at ticket 42), for pushes only those
pages want and for presence ("Dana is replying"). A page may join a topic only with a token the server signed for
that user in that workspace (`topic_token`, rendered into the page by a view that checked access): the socket
sends it as {"subscribe": token}, or the page names it in its socket URL (`topics_query`, joined before the socket
opens, so nothing pushed after the page opened it is missed), and the consumer (core.consumers) checks it with
`topic_from_token`. The workspace group carries only what every page shows (toasts): fragments for one kind of page
(list rows) go to that page's topic, so other pages never receive fragments they have no target for.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Callable
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers, get_channel_layer
from django.core import signing
from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context

from .breaker import REDIS_UNREACHABLE, CircuitBreaker, RateLimitedLog, redis_breaker, redis_timeout

WORKSPACE = "workspace"
USER = "user"
TOPIC = "topic"
# Lower-case letters, digits, dots, dashes and underscores: what channels accepts in group names.
TOPIC_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,79}")
TOPIC_SALT = "core.realtime.topic"
TOPICS_PARAM = "topic"
# A page left open longer reloads to follow its topic again (access is checked when the token is made).
TOPIC_TOKEN_MAX_AGE = 12 * 60 * 60
_log = RateLimitedLog(logging.getLogger(__name__))


def group_name(kind: str, *parts: object, schema: str | None = None) -> str:
    """Every group name starts with the schema, so a socket can only ever join its own workspace's groups."""
    schema = schema or connection.schema_name
    return ".".join([schema, kind, *(str(part) for part in parts)])


def workspace_group() -> str:
    return group_name(WORKSPACE)


def user_group(user_id: int) -> str:
    return group_name(USER, user_id)


def notify_on_commit(group: str, html: str | Callable[[], str], *, exclude_user_id: int | None = None) -> None:
    """After the current transaction commits, push `html` (OOB-swappable fragments) to every socket in `group`.

    `html` may be a function: it then renders at commit time, showing what was committed (later steps of the same
    transaction included) and costing nothing when the transaction rolls back; an empty result sends nothing.
    A failure to render or send is logged, never raised: the write it reports on has committed already.
    Refuses a group of another schema: a workspace's code can never push into another workspace's sockets.
    """
    if not group.startswith(f"{connection.schema_name}."):
        raise ValueError(f"Group {group!r} does not belong to the current schema {connection.schema_name!r}.")

    def send() -> None:
        text = html() if callable(html) else html
        if text:
            group_send_bounded(group, {"type": "push.html", "html": text, "exclude_user_id": exclude_user_id})

    transaction.on_commit(send, robust=True)


def group_send_bounded(group: str, message: dict) -> bool:
    """Sends `message` to `group` through the channel layer, giving up (logged, False) rather than holding the request.

    Pushes are best effort: a page that misses one shows the change on its next load. The Redis layer waits for a
    hung server as long as its socket timeout (30 s, which its blocking reads need), so a send is cut off after
    REDIS_TIMEOUT_SECONDS, and while the server's breaker is open (core.breaker) nothing is tried at all.
    """
    layer = get_channel_layer()
    if layer is None:
        return False
    breaker = _layer_breaker(layer)
    if breaker is not None and not breaker.allows():
        _log.warning("skipped", "live pushes skipped (e.g. to %s): %s is unreachable", group, breaker.name)
        return False

    async def send(through) -> None:
        await asyncio.wait_for(through.group_send(group, message), timeout=redis_timeout())

    try:
        if breaker is None:  # the in-memory layer (tests) lives in its caller's event loop
            async_to_sync(send)(layer)
        else:
            # Not async_to_sync: from a plain thread (a worker, a request) it made a new event loop per push, and
            # channels_redis a new Redis connection per loop, so every push paid a connect.
            pushing = asyncio.run_coroutine_threadsafe(send(_pushing_layer(layer)), _pushing_loop())
            pushing.result(timeout=redis_timeout() + 1)
    except REDIS_UNREACHABLE as error:  # asyncio's timeout is the builtin TimeoutError, an OSError
        if breaker is not None:
            breaker.record_failure(error)
        _log.warning("dropped", "live push to %s dropped (%s: %s)", group, type(error).__name__, error)
        return False
    if breaker is not None:
        breaker.record_success()
    return True


_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def _pushing_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process, in a daemon thread, that sends the pushes of sync code: its Redis connections
    are kept from push to push. Made again in a forked child (a Celery worker process), which has no such thread."""
    global _loop, _loop_pid
    if _loop is None or _loop_pid != os.getpid():
        with _loop_lock:
            if _loop is None or _loop_pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="realtime-pushes", daemon=True).start()
                _loop, _loop_pid = loop, os.getpid()
    return _loop


_pushing_layers: dict[tuple[int, int, str], object] = {}


def _pushing_layer(layer: object) -> object:
    """A layer of the pushing loop's own, made from the same settings as `layer` (the process's): the process's
    layer may be closed by its own loop (channels_redis closes every loop's connections then), which must not
    reach into the pushing thread's loop."""
    key = (os.getpid(), id(layer), repr(getattr(layer, "hosts", None)))
    with _loop_lock:
        pushing = _pushing_layers.get(key)
        if pushing is None:
            if len(_pushing_layers) > 8:  # tests switch layers; a process keeps one
                _pushing_layers.clear()
            pushing = _pushing_layers[key] = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    return pushing


def _layer_breaker(layer: object) -> CircuitBreaker | None:
    hosts = getattr(layer, "hosts", None)  # channels_redis: [{"address": "redis://…"} or {"host": …, "port": …}]
    if not hosts or not isinstance(hosts[0], dict):
        return None  # the in-memory layer (tests) cannot be unreachable
    host = hosts[0]
    address = host.get("address") or f"redis://{host.get('host', 'localhost')}:{host.get('port', 6379)}"
    return redis_breaker(address)


# --- Topics ------------------------------------------------------------------------------------------


def topic_group(topic: str, *, schema: str | None = None) -> str:
    if not TOPIC_NAME.fullmatch(topic):
        raise ValueError(f"Not a topic name: {topic!r}.")
    return group_name(TOPIC, topic, schema=schema)


def topic_dom_id(topic: str) -> str:
    """The id of the element a page shows the topic's presence in ("ticket.42" → "presence-ticket-42")."""
    return "presence-" + topic.replace(".", "-")


def topic_token(topic: str, *, user_id: int) -> str:
    """Lets this user's socket join `topic` of the current workspace (and no other), for TOPIC_TOKEN_MAX_AGE."""
    topic_group(topic)  # refuses a bad name now rather than when the socket subscribes
    return signing.dumps({"s": connection.schema_name, "t": topic, "u": user_id}, salt=TOPIC_SALT)


def topics_query(*topics: str, user_id: int) -> str:
    """The query string a page adds to its socket URL to follow `topics` (base.html: the `live_topics` variable)."""
    return urlencode([(TOPICS_PARAM, topic_token(topic, user_id=user_id)) for topic in topics])


def topic_from_token(token: object, *, schema: str, user_id: int) -> str | None:
    """The topic `token` grants, or None if it is forged, expired, or made for another workspace or user."""
    if not isinstance(token, str) or len(token) > 500:
        return None
    try:
        payload = signing.loads(token, salt=TOPIC_SALT, max_age=TOPIC_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("s") != schema or payload.get("u") != user_id:
        return None
    topic = payload.get("t")
    return topic if isinstance(topic, str) and TOPIC_NAME.fullmatch(topic) else None


# --- Who has a page open -------------------------------------------------------------------------
# A count of open sockets per user, in the cache (Redis): how the chat widget knows whether any agent is there to
# answer. A socket adds one when it opens and takes it back when it closes; a process killed with sockets open
# leaves its counts behind until they expire (CONNECTED_TTL, the longest a page follows its topics anyway).

CONNECTED_TTL = TOPIC_TOKEN_MAX_AGE


def _connected_key(schema: str, user_id: int) -> str:
    return f"live:connected:{schema}:{user_id}"


def _cache_in(schema: str):
    # django_tenants' cache key function prefixes the current schema: name it, so a socket's thread (public) and a
    # request's thread (the workspace) count in the same key.
    return schema_context(schema)


def socket_opened(*, schema: str, user_id: int) -> None:
    key = _connected_key(schema, user_id)
    try:
        with _cache_in(schema):
            cache.add(key, 0, timeout=CONNECTED_TTL)
            cache.incr(key)
            cache.touch(key, CONNECTED_TTL)
    except Exception:  # presence is a hint: a cache outage must not refuse the socket
        _log.warning("presence", "socket presence not recorded")


def socket_closed(*, schema: str, user_id: int) -> None:
    key = _connected_key(schema, user_id)
    try:
        with _cache_in(schema):
            if cache.decr(key) <= 0:
                cache.delete(key)
    except ValueError:  # expired meanwhile
        pass
    except Exception:
        _log.warning("presence", "socket presence not cleared")


def users_connected(user_ids: list[int], *, schema: str | None = None) -> set[int]:
    """Which of these users of the workspace have at least one live socket open."""
    schema = schema or connection.schema_name
    keys = {_connected_key(schema, user_id): user_id for user_id in user_ids}
    try:
        with _cache_in(schema):
            found = cache.get_many(list(keys))
    except Exception:
        _log.warning("presence", "socket presence unavailable")
        return set()
    return {keys[key] for key, count in found.items() if (count or 0) > 0}
