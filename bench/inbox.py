"""Inbound mail: parse-and-thread throughput in one worker process on the real-world corpus, and importing a
10,000-message mailbox twice without a duplicate.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/inbox.py [--only parse,mailbox,memory] [--messages 1000] [--mailbox 10000] [--big 10]
        [--batch 5] [--drop]

`parse`: the messages of inbox/tests/mail/ (Outlook, Gmail, Apple Mail, Thunderbird, phones, a mailing list,
auto-replies, delivery reports, broken ones), each copy with its own Message-ID, a third of them answering an
earlier copy (In-Reply-To) so threading finds its ticket, in one process as one worker runs them: from the raw
bytes in hand ("fetched") through `inbound_receive` (stored, committed) and `inbound_process` (parsed, threaded,
ticket or message committed). Prints messages/s and p50/p95/max per message, and the parsing alone (no database).
`--batch N` (5, the IMAP poller's chunk): the messages are handed over N at a time, as a poll stores a chunk
(`inbound_receive_many`, one transaction) and one task files it (`inbound_process_many`, one more); each message's
time then runs from its chunk's fetch to the chunk's commit. `--batch 1` is one message at a time (`inbound_receive`,
`inbound_process`), which also runs on a checkout from before batches. Also prints the SQL statements and the
transactions (commits) per message, and the CPU per message of the worker and of PostgreSQL.

`mailbox`: `--mailbox` generated messages (300 senders, 30 % replies) imported the same way, then all imported
again as a fetcher re-reading the mailbox after a crash would: prints the rate and the duplicates (must be 0).

`--push`: as the forwarding webhook and the SMTP receiver deliver: each message stored in its own transaction
(`inbound_receive`, one request each), then the `--batch` messages that arrived meanwhile filed together
(`inbound_process_many`, as the coalescing `inbound_process_pending_task` does). Without it, `--batch 1` is the
one-task-per-message path that Graph, Gmail and the webhook took before they were moved onto batches.

`memory` (not run by default): `--big` emails each carrying a 25 MB attachment, imported the same way; prints the
process's peak RSS after the first and after the last (bounded: the same), and tracemalloc's peak while parsing
the first one whole (`mail_parse(bytes)`, as the pipeline did) and streamed from its stored file
(`mail_parse_file`, big parts decoded into temporary files, as it does now).

The workspace "bench-inbox" is kept for later runs (`--drop` removes it); every run's Message-IDs are its own.
Tasks the import queues (the ticket intake, the analysis, the processing task itself, already done here) go to a
Redis database leased for the run and flushed after, never to a development worker.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.db import DEFAULT_DB_ALIAS, connection, connections  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from bench.common import bench_workspace  # noqa: E402
from helpdesk.models import Ticket  # noqa: E402
from inbox.mail.parse import mail_parse  # noqa: E402
from inbox.mail.quotes import html_to_text, visible_text  # noqa: E402
from inbox.models import InboundEmail, Mailbox  # noqa: E402
from inbox.services import inbound as inbound_services  # noqa: E402
from inbox.services.inbound import inbound_process, inbound_receive  # noqa: E402
from tenants.models import Tenant  # noqa: E402

CHILD = "INBOX_BENCH_CHILD"
SLUG = "bench-inbox"
CORPUS = ROOT / "inbox" / "tests" / "mail"
MESSAGE_ID = re.compile(rb"^Message-I[Dd]:[^\n]*\n", re.MULTILINE | re.IGNORECASE)


def workspace() -> Tenant:
    tenant = bench_workspace(SLUG, "Bench Inbox")
    with tenant_context(tenant):
        Mailbox.objects.get_or_create(address="support@workspace.test", defaults={"name": "Support", "kind": "imap"})
    return tenant


def postgres_cpu_seconds() -> float:
    """User + system CPU of this checkout's PostgreSQL (var/pg's postmaster and its backends), not of the other
    servers sharing the machine."""
    postmaster = int((ROOT / "var" / "pg" / "postmaster.pid").read_text().split()[0])
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(") ")[2].split()
        except OSError:
            continue
        if int(stat.parent.name) == postmaster or int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * share) - 1)]


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def copy_of(raw: bytes, message_id: str, in_reply_to: str = "") -> bytes:
    """The corpus message under its own Message-ID (and answering `in_reply_to`), headers otherwise as written."""
    head = f"Message-ID: {message_id}\n".encode()
    if in_reply_to:
        head += f"In-Reply-To: {in_reply_to}\n".encode()
    return head + MESSAGE_ID.sub(b"", raw, count=1)


def import_one(raw: bytes) -> tuple[float, bool, str]:
    """Fetched bytes → stored → filed, both committed, as one worker does it. (ms, created, status)"""
    started = time.perf_counter()
    inbound, created = inbound_receive(raw=raw, source="imap", source_ref="bench")
    if created and inbound.status == InboundEmail.Status.RECEIVED:
        inbound = inbound_process(inbound.pk)
    return (time.perf_counter() - started) * 1000, created, inbound.status


def import_batch(raws: list[bytes]) -> list[tuple[float, bool, str]]:
    """A poll's chunk of fetched messages → stored in one transaction → filed in one more, as the IMAP poller and
    the batch task do it. Each message's time runs from the chunk's fetch to its commit. (ms, created, status)"""
    if len(raws) == 1:
        return [import_one(raws[0])]
    started = time.perf_counter()
    # Looked up here, so that `--batch 1` also runs on a checkout from before batches (for before/after figures).
    fetched = [inbound_services.Fetched(raw, "bench") for raw in raws]
    stored = inbound_services.inbound_receive_many(fetched, source="imap")
    new = [inbound.pk for inbound, created in stored if created and inbound.status == InboundEmail.Status.RECEIVED]
    filed = {inbound.pk: inbound.status for inbound in inbound_services.inbound_process_many(new)}
    milliseconds = (time.perf_counter() - started) * 1000
    return [(milliseconds, created, filed.get(inbound.pk, inbound.status)) for inbound, created in stored]


def import_pushed(raws: list[bytes]) -> list[tuple[float, bool, str]]:
    """Pushed mail: each message stored in its own transaction as it arrives, the ones that arrived while the
    filing task waited filed together. Each message's time runs from its arrival to the batch's commit."""
    arrived, stored = [], []
    for raw in raws:
        arrived.append(time.perf_counter())
        stored.append(inbound_receive(raw=raw, source="webhook", source_ref="bench", coalesce=True))
    new = [inbound.pk for inbound, created in stored if created and inbound.status == InboundEmail.Status.RECEIVED]
    filed = {inbound.pk: inbound.status for inbound in inbound_services.inbound_process_many(new)}
    done = time.perf_counter()
    return [
        ((done - started) * 1000, created, filed.get(inbound.pk, inbound.status))
        for started, (inbound, created) in zip(arrived, stored, strict=True)
    ]


def import_all(messages: list[bytes], batch: int, *, push: bool = False) -> list[tuple[float, bool, str]]:
    chunk = import_pushed if push else import_batch
    return [outcome for start in range(0, len(messages), batch) for outcome in chunk(messages[start : start + batch])]


class StatementCount:
    """Counts the SQL statements the connection sends (savepoints included) and its commits."""

    def __init__(self) -> None:
        self.statements = self.commits = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)

    def commit(self) -> None:
        self.commits += 1
        wrapper = connections[DEFAULT_DB_ALIAS]
        type(wrapper).commit(wrapper)


def bench_parse(tenant: Tenant, count: int, batch: int, *, push: bool = False) -> None:
    corpus = [path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))]
    run = uuid.uuid4().hex[:8]
    rng = random.Random(5)
    messages, ids = [], []
    for number in range(count):
        message_id = f"<bench-{run}-{number}@bench.test>"
        answers = ids[rng.randrange(len(ids))] if ids and number % 3 == 0 else ""
        messages.append(copy_of(corpus[number % len(corpus)], message_id, answers))
        ids.append(message_id)

    started = time.perf_counter()
    for raw in messages:
        parsed = mail_parse(raw)
        visible_text(parsed.text) if parsed.text.strip() else visible_text(html_to_text(parsed.html))
    parsing = (time.perf_counter() - started) * 1000 / count

    timings, statuses = [], {}
    with tenant_context(tenant):
        tickets_before = Ticket.objects.count()
        database_cpu = postgres_cpu_seconds()
        counter = StatementCount()
        started, cpu = time.perf_counter(), time.process_time()
        connections[DEFAULT_DB_ALIAS].commit = counter.commit  # this connection's commits, counted
        try:
            with connection.execute_wrapper(counter):
                for milliseconds, _created, status in import_all(messages, batch, push=push):
                    timings.append(milliseconds)
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            del connections[DEFAULT_DB_ALIAS].commit
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        database_cpu = postgres_cpu_seconds() - database_cpu
        tickets = Ticket.objects.count() - tickets_before
    print(
        f"parse+thread  {count:,} messages ({len(corpus)} corpus files, {batch} per batch"
        f"{', pushed one by one' if push else ''}) in {seconds:.1f} s: "
        f"{count / seconds:6.1f}/s  "
        f"fetch → committed ticket p50 {statistics.median(timings):5.1f} ms  p95 {percentile(timings, 0.95):5.1f} ms  "
        f"max {max(timings):6.1f} ms"
    )
    print(
        f"              CPU per message: this worker {cpu * 1000 / count:.1f} ms, PostgreSQL "
        f"{database_cpu * 1000 / count:.1f} ms (the rate with the CPU to itself: "
        f"{count / (cpu + database_cpu):.0f}/s); parsing alone {parsing:.2f} ms"
    )
    print(
        f"              per message: {counter.statements / count:.1f} SQL statements, {counter.commits / count:.2f} "
        "transactions; "
        f"{tickets:,} new tickets; outcomes { {str(key): value for key, value in statuses.items()} }"
    )
    print(f"              {load()}")


def generated_mailbox(count: int, run: str) -> list[bytes]:
    rng = random.Random(7)
    senders = [f"customer{n}@mail{n % 17}.example" for n in range(300)]
    subjects = ["Invoice question", "Cannot log in", "Refund please", "Export is empty", "Parcel damaged"]
    messages = []
    for number in range(count):
        headers = f"Message-ID: <box-{run}-{number}@bench.test>\r\n"
        if number and rng.random() < 0.3:
            headers += f"In-Reply-To: <box-{run}-{rng.randrange(number)}@bench.test>\r\n"
        body = f"Hello,\r\n\r\nMessage {number}: {rng.choice(subjects).lower()}, details follow.\r\n\r\n> quoted\r\n"
        messages.append(
            (
                f"From: Customer {number % 300} <{senders[number % 300]}>\r\nTo: support@workspace.test\r\n"
                f"Subject: {rng.choice(subjects)}\r\nDate: Mon, 07 Dec 2026 09:00:00 +0000\r\n{headers}"
                f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
            ).encode()
        )
    return messages


def bench_mailbox(tenant: Tenant, count: int, batch: int) -> None:
    run = uuid.uuid4().hex[:8]
    messages = generated_mailbox(count, run)
    with tenant_context(tenant):
        stored_before, tickets_before = InboundEmail.objects.count(), Ticket.objects.count()
        started = time.perf_counter()
        timings = [outcome[0] for outcome in import_all(messages, batch)]
        seconds = time.perf_counter() - started
        stored, tickets = InboundEmail.objects.count() - stored_before, Ticket.objects.count() - tickets_before
        print(
            f"mailbox       {count:,} messages imported in {seconds:.1f} s: {count / seconds:6.1f}/s  "
            f"p95 {percentile(timings, 0.95):5.1f} ms; stored {stored:,}, new tickets {tickets:,}"
        )
        started = time.perf_counter()
        duplicates = sum(outcome[1] for outcome in import_all(messages, batch))
        seconds = time.perf_counter() - started
        stored_again = InboundEmail.objects.count() - stored_before
        tickets_again = Ticket.objects.count() - tickets_before
        print(
            f"re-import     {count:,} messages in {seconds:.1f} s: {count / seconds:6.1f}/s; duplicates {duplicates} "
            f"(stored {stored_again:,}, tickets {tickets_again:,})"
        )
    print(f"              {load()}")


def big_message(number: int, run: str, megabytes: int) -> bytes:
    """A customer's email carrying one `megabytes` attachment (random bytes: incompressible, as a video is)."""
    message = EmailMessage()
    message["From"] = f"Sender {number} <sender{number}@customer.test>"
    message["To"] = "support@workspace.test"
    message["Subject"] = f"Recording of the crash {number}"
    message["Message-ID"] = f"<big-{run}-{number}@customer.test>"
    message.set_content("The screen recording is attached.")
    message.add_attachment(os.urandom(megabytes * 1024 * 1024), maintype="video", subtype="mp4", filename="crash.mp4")
    return message.as_bytes()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_memory(tenant: Tenant, count: int, megabytes: int) -> None:
    """Peak RSS after importing 1 message with a big attachment, then after `count`: bounded means flat."""
    run = uuid.uuid4().hex[:8]
    with tenant_context(tenant):
        baseline = peak_rss_mb()
        peaks = []
        for number in range(count):
            raw = big_message(number, run, megabytes)
            status = import_one(raw)[2]
            del raw
            peaks.append(peak_rss_mb())
        print(
            f"memory        {count} messages with a {megabytes} MB attachment ({status}): peak RSS {baseline:.0f} MB "
            f"before, {peaks[0]:.0f} MB after the first, {peaks[-1]:.0f} MB after the last"
        )
        parse_peaks(big_message(count, run, megabytes), megabytes)  # last: parsing whole would raise the RSS


def parse_peaks(raw: bytes, megabytes: int) -> None:
    """tracemalloc's peak while parsing one big message whole, then streamed from a file (the bytes exist already)."""
    import io
    import tracemalloc

    from inbox.mail.parse import mail_parse_file

    peaks = []
    for parse in (lambda: mail_parse(raw), lambda: mail_parse_file(io.BytesIO(raw))[1]()):
        tracemalloc.start()
        parse()
        peaks.append(tracemalloc.get_traced_memory()[1] / 1024 / 1024)
        tracemalloc.stop()
    print(
        f"memory        parsing a {len(raw) / 1024 / 1024:.0f} MB message ({megabytes} MB attachment): "
        f"tracemalloc peak {peaks[0]:.1f} MB whole, {peaks[1]:.1f} MB streamed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="parse,mailbox", help="comma-separated parts: parse, mailbox, memory")
    parser.add_argument("--big", type=int, default=10, help="memory: messages with a 25 MB attachment")
    parser.add_argument("--messages", type=int, default=1000, help="parse: corpus copies to import")
    parser.add_argument("--mailbox", type=int, default=10_000, help="mailbox: generated messages")
    parser.add_argument(
        "--batch", type=int, default=5, help="messages per poll chunk (the IMAP poller's); 1: one at a time"
    )
    parser.add_argument("--push", action="store_true", help="parse: pushed one by one, filed --batch at a time")
    parser.add_argument("--drop", action="store_true", help="delete the benchmark workspace and exit")
    args = parser.parse_args()
    if args.drop:
        with schema_context("public"):
            Tenant.objects.filter(slug=SLUG).delete()
        return
    parts = set(args.only.split(","))
    tenant = workspace()
    connection.set_schema_to_public()
    print(f"{load()} before")
    if "parse" in parts:
        bench_parse(tenant, args.messages, args.batch, push=args.push)
    if "mailbox" in parts:
        bench_mailbox(tenant, args.mailbox, args.batch)
    if "memory" in parts:
        bench_memory(tenant, args.big, 25)


if __name__ == "__main__":
    if os.environ.get(CHILD):
        main()
    else:
        from core.testing.live import rerun_with_a_leased_redis

        sys.exit(rerun_with_a_leased_redis(__file__, CHILD))
