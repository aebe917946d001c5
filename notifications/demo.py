"""Demo notifications (run by `manage.py seed_demo`): every member's centre has a few days of mentions and followed
tickets' changes on the demo's own tickets (and, for owners and admins, one spent AI budget), the latest unread, so
the bell and the centre mean something after `make run`."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from helpdesk import facade as helpdesk
from helpdesk.facade.automation import tickets_recent_ids

from . import rendering
from .contracts import EMAIL, IN_APP
from .events import AI_BUDGET_EXHAUSTED, TICKET_FOLLOWED_CHANGED, TICKET_MENTIONED, event_type_get
from .models import Delivery, Notification

PER_PERSON = 24
UNREAD = 4
EVENT_MIX = (TICKET_MENTIONED, TICKET_FOLLOWED_CHANGED, TICKET_FOLLOWED_CHANGED)
BUDGET_AT = 9  # the owners' and admins' one spent-budget notice: the 10th newest
CHANGES = ("status: new → open", "priority: normal → urgent", "assignee: nobody → Dana", "a customer replied")


@transaction.atomic
def seed_notifications(*, people: Sequence, seed: int = 0) -> str:
    if Notification.objects.exists():
        return "notifications seeded before"
    rng = random.Random(seed)
    now = timezone.now()
    rows, deliveries = [], []
    tickets = helpdesk.ticket_brief_rows(tickets_recent_ids(limit=40))
    if not tickets:
        return "no notifications (no tickets)"
    names = [person.get_full_name() or person.email for person in people]
    for person in people:
        others = [name for name in names if name != (person.get_full_name() or person.email)] or names
        for index in range(PER_PERSON):
            managing = person.role in ("owner", "admin")
            event = AI_BUDGET_EXHAUSTED if managing and index == BUDGET_AT else rng.choice(EVENT_MIX)
            ticket_id, subject, _customer_id, status = rng.choice(tickets)
            context = {
                "ticket": {"id": str(ticket_id), "subject": subject, "status": status},
                "actor": {"name": rng.choice(others)},
                "note": {"excerpt": "Could you have a look at this one? The customer is waiting."},
                "change": {"summary": rng.choice(CHANGES)},
                "provider": {"name": "OpenAI (team)"},
                "month": now.strftime("%B %Y"),
            }
            wording = rendering.render(rendering.default_wording(event_type_get(event), IN_APP), context)
            created = now - timedelta(minutes=index * 90 + rng.randint(0, 60))
            link = "/settings/ai/" if event == AI_BUDGET_EXHAUSTED else f"/tickets/{ticket_id}/"
            read_at = None if index < UNREAD else created + timedelta(minutes=5)
            rows.append(
                Notification(
                    user=person,
                    event=event,
                    title=wording.subject,
                    body=wording.body,
                    link=link,
                    created=created,
                    read_at=read_at,
                )
            )
            deliveries.append(
                Delivery(
                    user=person,
                    event=event,
                    channel=EMAIL,
                    status=rng.choice([Delivery.Status.SENT, Delivery.Status.SENT, Delivery.Status.FAILED]),
                    title=wording.subject,
                    link=link,
                    attempts=1,
                    created=created,
                    sent_at=created,
                )
            )
    Notification.objects.bulk_create(rows)
    for delivery in deliveries:
        if delivery.status == Delivery.Status.FAILED:
            delivery.attempts, delivery.last_error, delivery.sent_at = 5, "SMTP 451: try again later", None
    Delivery.objects.bulk_create(deliveries)
    return f"{len(rows)} notifications ({UNREAD} unread each)"
