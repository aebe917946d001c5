"""Routes each public message the helpdesk hands over (helpdesk.contracts.OutgoingMessage) to the delivery of its
channel: chat and SMS tickets are answered on their channel, every other ticket by email.

Each channel's module registers its deliverer with `@deliverer(...)`; a deliverer only queues work (Celery), so
the agent's request never waits on a mail server or a provider.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from helpdesk.contracts import OutgoingMessage

logger = logging.getLogger(__name__)

DEFAULT = "*"  # every channel without a deliverer of its own
Deliverer = Callable[[OutgoingMessage], None]
_deliverers: dict[str, Deliverer] = {}


def deliverer(*channels: str) -> Callable[[Deliverer], Deliverer]:
    def register(function: Deliverer) -> Deliverer:
        for channel in channels:
            _deliverers[channel] = function
        return function

    return register


def outgoing_route(message: OutgoingMessage) -> None:
    function = _deliverers.get(message.channel) or _deliverers.get(DEFAULT)
    if function is None:
        logger.info("no delivery for %s tickets: #%s's message stays here", message.channel, message.ticket_id)
        return
    function(message)
