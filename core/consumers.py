"""The one websocket every signed-in page opens: HTML fragments for the htmx `ws` extension, topics and presence.

Pushes: every socket joins its workspace's group and its user's group, and receives `push.html` messages. Each
open socket is counted for its user (core.realtime.users_connected: is any agent there to answer a chat?).

Topics and presence (see core.realtime): the socket URL may name topics (?topic=<token>&topic=<token>), joined
before the socket is accepted; and a page may send
  {"subscribe": "<token>"}                      join the topic the signed token names (this user, this workspace);
  {"presence": "viewing"|"replying"|"left"}     tell the other sockets on the page's topics what this person does
                                                (optionally {"topic": "ticket.42"} to name one topic).
There is no presence store: each socket announces its state to the topic's group, asks the sockets already there to
answer with theirs, and keeps what it heard. Every change re-renders the presence bar of that topic for this socket's
page (`components/presence.html`, swapped out of band), leaving out the page's own user. A socket that closes says
"left" first, so the others drop it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from .realtime import (
    TOPICS_PARAM,
    USER,
    WORKSPACE,
    group_name,
    socket_closed,
    socket_opened,
    topic_dom_id,
    topic_from_token,
    topic_group,
)

VIEWING = "viewing"
REPLYING = "replying"
LEFT = "left"
PRESENCE_STATES = frozenset({VIEWING, REPLYING, LEFT})
# A page follows one or two topics; the cap keeps a misbehaving client from joining thousands of groups.
MAX_TOPICS = 10
MAX_MESSAGE_BYTES = 2_000


@dataclass(frozen=True)
class Peer:
    user_id: int
    name: str
    state: str


class LiveConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        schema = self.scope.get("schema_name")
        if not schema or user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = [group_name(WORKSPACE, schema=schema), group_name(USER, user.pk, schema=schema)]
        self.topics: dict[str, str] = {}  # topic → its group
        self.presence: dict[str, str] = {}  # topic → this page's own state there
        self.peers: dict[str, dict[str, Peer]] = {}  # topic → other sockets' channel names → what they said
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        for token in _url_tokens(self.scope.get("query_string", b"")):
            await self._subscribe(token)
        await self.accept()
        self.counted = True
        await sync_to_async(socket_opened)(schema=schema, user_id=user.pk)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            await sync_to_async(socket_closed)(schema=self.scope["schema_name"], user_id=self.scope["user"].pk)
        for topic in list(getattr(self, "topics", {})):
            await self._announce(topic, LEFT)
        for group in [*getattr(self, "groups_joined", []), *getattr(self, "topics", {}).values()]:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Subscriptions and presence; anything else (or anything malformed) is ignored."""
        message = _parse(text_data)
        if message is None:
            return
        if "subscribe" in message:
            await self._subscribe(message["subscribe"])
        if "presence" in message:
            await self._set_presence(message["presence"], message.get("topic"))

    async def push_html(self, event: dict) -> None:
        if event.get("exclude_user_id") == self.scope["user"].pk:
            return
        await self.send(text_data=event["html"])

    async def presence_announce(self, event: dict) -> None:
        """Another socket on one of our topics says what its person does (and may ask us to answer)."""
        topic, channel = event["topic"], event["channel"]
        if topic not in self.topics or channel == self.channel_name:
            return
        peers = self.peers[topic]
        if event["state"] == LEFT:
            peers.pop(channel, None)
        else:
            peers[channel] = Peer(user_id=event["user_id"], name=event["name"], state=event["state"])
        if event.get("ask_back") and topic in self.presence:
            await self._announce(topic, self.presence[topic], to=channel)
        await self.send(text_data=self._presence_html(topic))

    # --- Helpers ---------------------------------------------------------------------------------

    async def _subscribe(self, token: object) -> None:
        user = self.scope["user"]
        topic = topic_from_token(token, schema=self.scope["schema_name"], user_id=user.pk)
        if topic is None or topic in self.topics or len(self.topics) >= MAX_TOPICS:
            return
        group = topic_group(topic, schema=self.scope["schema_name"])
        await self.channel_layer.group_add(group, self.channel_name)
        self.topics[topic] = group
        self.peers[topic] = {}

    async def _set_presence(self, state: object, topic: object = None) -> None:
        if state not in PRESENCE_STATES:
            return
        topics = [topic] if isinstance(topic, str) else list(self.topics)
        for name in topics:
            if name not in self.topics:
                continue
            first = name not in self.presence
            if state == LEFT:
                if first:
                    continue
                del self.presence[name]
            else:
                if self.presence.get(name) == state:
                    continue
                self.presence[name] = state
            # The first announcement asks who is already there: they answer to this socket alone.
            await self._announce(name, state, ask_back=first and state != LEFT)

    async def _announce(self, topic: str, state: str, *, to: str | None = None, ask_back: bool = False) -> None:
        user = self.scope["user"]
        event = {
            "type": "presence.announce",
            "topic": topic,
            "channel": self.channel_name,
            "user_id": user.pk,
            "name": user.get_full_name(),
            "state": state,
            "ask_back": ask_back,
        }
        if to is not None:
            await self.channel_layer.send(to, event)
        else:
            await self.channel_layer.group_send(self.topics[topic], event)

    def _presence_html(self, topic: str) -> str:
        """Who else is on the topic, one entry per person (replying beats viewing when they have two tabs)."""
        people: dict[int, Peer] = {}
        for peer in self.peers[topic].values():
            if peer.user_id == self.scope["user"].pk:
                continue
            known = people.get(peer.user_id)
            if known is None or (peer.state == REPLYING and known.state != REPLYING):
                people[peer.user_id] = peer
        ordered = sorted(people.values(), key=lambda peer: (peer.state != REPLYING, peer.name.lower()))
        return render_to_string("components/presence.html", {"dom_id": topic_dom_id(topic), "people": ordered})


def _url_tokens(query_string: bytes) -> list[str]:
    """The topic tokens the socket URL names (at most MAX_TOPICS of them are ever joined)."""
    try:
        query = parse_qs(query_string.decode("ascii"), max_num_fields=MAX_TOPICS * 2)
    except (UnicodeDecodeError, ValueError):
        return []
    return query.get(TOPICS_PARAM, [])[:MAX_TOPICS]


def _parse(text_data: str | None) -> dict | None:
    if not text_data or len(text_data) > MAX_MESSAGE_BYTES:
        return None
    try:
        message = json.loads(text_data)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None
