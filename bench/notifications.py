"""Notifications: fan-out of one event to 1,000 recipients (in-app rows written and live pushes sent; emails queued),
and the notification centre's p95 for a person with 10,000 notifications.

Run by hand while the embedded servers run (`make services`):
    .venv/bin/python bench/notifications.py [--recipients 1000] [--notifications 10000] [--requests 200] [--drop]

The first run seeds a workspace "bench-notify" (kept for later runs; `--drop` removes it) with the recipients. The
fan-out is timed as the worker runs it (notifications.services.dispatch_fan_out, one transaction: every in-app row
and delivery in bulk, the email sends queued on the outbox), then its after-commit pushes to each recipient's
websocket group (Redis channel layer). The queued email sends are left harmless: their deliveries are marked failed
("bench") right after, so a worker that later takes the tasks sends nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from notifications import services  # noqa: E402
from notifications.models import Delivery, Dispatch, Notification  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import workspace_domain  # noqa: E402

SLUG = "bench-notify"
EVENT = "ticket.mentioned"
CONTEXT = {"ticket": {"id": "42", "subject": "Printer on fire"}, "actor": {"name": "Bench"}, "note": {"excerpt": "x"}}


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * 0.95) - 1)]


def recipients(count: int) -> list[int]:
    have = User.objects.filter(email__startswith="bench-recipient-").count()
    if have < count:
        User.objects.bulk_create(
            [
                User(email=f"bench-recipient-{index}@bench.test", name=f"Recipient {index}", role="agent")
                for index in range(have, count)
            ]
        )
    return list(
        User.objects.filter(email__startswith="bench-recipient-").order_by("pk").values_list("pk", flat=True)[:count]
    )


def fan_out(count: int) -> None:
    ids = recipients(count)
    dispatch = Dispatch.objects.create(event=EVENT, recipient_ids=ids, context=CONTEXT, link="/tickets/42/")
    pushes: list[float] = []
    original = transaction.on_commit

    def timed_on_commit(func, using=None, robust=False):  # the live pushes run after the fan-out commits
        def run():
            started = time.perf_counter()
            func()
            pushes.append(time.perf_counter() - started)

        return original(run, using=using, robust=robust)

    transaction.on_commit = timed_on_commit
    try:
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            made = services.dispatch_fan_out(dispatch.pk)
        committed = time.perf_counter() - started
    finally:
        transaction.on_commit = original
    rows = Delivery.objects.filter(dispatch=dispatch).values("channel").annotate(n=Count("id"))
    counts = {row["channel"]: row["n"] for row in rows}
    Delivery.objects.filter(dispatch=dispatch, status="queued").update(status="failed", last_error="bench")
    print(f"fan-out to {len(ids)} recipients: {made} deliveries {counts}, {len(queries)} queries")
    print(f"  in-app rows + email deliveries written and sends queued (one commit): {committed * 1000:8.1f} ms")
    print(f"  after commit: email sends published, bell pushes to {len(ids)} groups:  {sum(pushes) * 1000:8.1f} ms")
    total_ms = (committed + sum(pushes)) * 1000
    print(f"  everything delivered in-app and every email queued after:             {total_ms:8.1f} ms")


def centre(tenant: Tenant, total: int, requests: int) -> None:
    with tenant_context(tenant):
        person = User.objects.filter(email="bench-reader@bench.test").first() or User.objects.create(
            email="bench-reader@bench.test", name="Reader", role="agent"
        )
        missing = total - Notification.objects.filter(user=person).count()
        now = timezone.now()
        if missing > 0:
            Notification.objects.bulk_create(
                [
                    Notification(
                        user=person,
                        event=EVENT if index % 3 else "ticket.followed_changed",
                        title=f"Notice {index}",
                        body="Something happened on a ticket you follow.",
                        link="/tickets/42/",
                        created=now - timezone.timedelta(minutes=index),
                        read_at=None if index % 10 == 0 else now,
                    )
                    for index in range(missing)
                ],
                batch_size=2000,
            )
        cursor_page = services_cursor(person)
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=workspace_domain(SLUG))
    with tenant_context(tenant):
        client.force_login(person)
    connection.set_schema_to_public()
    print(f"notification centre, {total} notifications for one person, {requests} requests per line")
    for label, url in {
        "centre, first page": "/notifications/",
        "centre, unread only": "/notifications/?show=unread",
        "centre, one event type": f"/notifications/?event={EVENT}",
        "centre, 20 pages in (cursor)": f"/notifications/?cursor={cursor_page}",
        "bell count": "/notifications/bell/",
        "bell dropdown": "/notifications/latest/",
    }.items():
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(f"  {label:<32} p50 {statistics.median(timings):6.1f} ms   p95 {p95(timings):6.1f} ms")


def services_cursor(person) -> str:
    from urllib.parse import quote

    from notifications import selectors

    page = selectors.notification_page(user=person, filters=selectors.CentreFilters(), cursor=None)
    for _ in range(19):
        page = selectors.notification_page(user=person, filters=selectors.CentreFilters(), cursor=page.next_cursor)
    return quote(page.next_cursor or "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    tenant = bench_workspace(SLUG, "Bench Notify")
    with tenant_context(tenant):
        fan_out(args.recipients)
    centre(tenant, args.notifications, args.requests)


if __name__ == "__main__":
    main()
