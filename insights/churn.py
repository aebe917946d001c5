"""Churn signals: health drops, streaks of negative tickets and cancellation language, each naming the account owner
and a suggested next step. Every figure in a signal is read from the data (snapshots, ticket sentiment, the words a
customer wrote); nothing is estimated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from customers import facade as customers
from customers.contracts import CustomerBrief
from helpdesk import facade as helpdesk

HEALTH_DAYS = 14
NEGATIVE_STREAK = 3
TICKET_DAYS = 30
# Words a customer uses when leaving; checked by PostgreSQL (and Python for the phrase shown), case-insensitive.
CANCELLATION_PATTERN = (
    r"(cancel+(ing|ation)? (our|my|the) (subscription|account|contract|plan)"
    r"|terminat(e|ing|ion of) (our|the) (contract|subscription|agreement)"
    r"|(not|won't|will not) (be )?renew"
    r"|(moving|switching|switch|move) to (a |another )?(competitor|other provider|different provider)"
    r"|close (our|my) account)"
)
KIND_LABELS = {
    "health_drop": "Health drop",
    "negative_streak": "Negative tickets in a row",
    "cancellation": "Cancellation language",
}


@dataclass(frozen=True)
class ChurnSignal:
    kind: str  # health_drop, negative_streak, cancellation
    customer: CustomerBrief
    detail: str
    next_step: str
    ticket_ids: tuple[int, ...] = ()
    was: int | None = None  # health drops: the scores compared
    now: int | None = None

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def owner(self) -> str:
        return self.customer.owner_name or "no owner"

    @property
    def is_key_account(self) -> bool:
        return self.customer.tier in settings.INSIGHTS_KEY_ACCOUNT_TIERS


def churn_signals_detect(*, now: datetime | None = None, min_drop: int | None = None) -> list[ChurnSignal]:
    """Every current churn signal, key accounts first, then by company name."""
    now = now or timezone.now()
    min_drop = settings.INSIGHTS_HEALTH_DROP_POINTS if min_drop is None else min_drop
    signals = health_drop_signals(now=now, min_drop=min_drop)
    since = now - timedelta(days=TICKET_DAYS)
    streaks = _negative_streaks(since=since, now=now)
    mentions = helpdesk.ticket_mentions(since=since, until=now, pattern=CANCELLATION_PATTERN)
    briefs = customers.customer_briefs(customer_ids=list(streaks) + [mention.customer_id for mention in mentions])
    for customer_id, ticket_ids in streaks.items():
        if customer_id in briefs:
            signals.append(_streak_signal(briefs[customer_id], ticket_ids))
    seen: set[int] = set()
    for mention in mentions:  # newest first: one signal per company, its latest words
        if mention.customer_id in briefs and mention.customer_id not in seen:
            seen.add(mention.customer_id)
            signals.append(_cancellation_signal(briefs[mention.customer_id], mention))
    return sorted(signals, key=lambda signal: (not signal.is_key_account, signal.customer.name, signal.kind))


def health_drop_signals(*, now: datetime, min_drop: int) -> list[ChurnSignal]:
    drops = customers.health_drops(today=timezone.localdate(now), days=HEALTH_DAYS, min_drop=min_drop)
    return [
        ChurnSignal(
            "health_drop",
            drop.customer,
            f"Health fell from {drop.was} on {drop.was_day:%d %b} to {drop.now} on {drop.now_day:%d %b}.",
            f"{drop.customer.owner_name or 'The account owner'}: call {drop.customer.name} this week and go through "
            "what changed (open the company's health drivers first).",
            was=drop.was,
            now=drop.now,
        )
        for drop in drops
    ]


def _negative_streaks(*, since: datetime, now: datetime) -> dict[int, tuple[int, ...]]:
    """{company: its latest tickets when the NEGATIVE_STREAK newest analysed ones are all negative}."""
    sequences = helpdesk.customer_sentiment_sequences(since=since, until=now)
    streaks = {}
    for customer_id, sequence in sequences.items():
        run = []
        for ticket_id, sentiment in sequence:
            if sentiment != "negative":
                break
            run.append(ticket_id)
        if len(run) >= NEGATIVE_STREAK:
            streaks[customer_id] = tuple(run)
    return streaks


def _streak_signal(brief: CustomerBrief, ticket_ids: tuple[int, ...]) -> ChurnSignal:
    return ChurnSignal(
        "negative_streak",
        brief,
        f"The last {len(ticket_ids)} analysed tickets were all negative.",
        f"{brief.owner_name or 'The account owner'}: read tickets "
        f"{', '.join(f'#{pk}' for pk in ticket_ids[:5])} with the support lead, then call {brief.name}.",
        ticket_ids,
    )


def _cancellation_signal(brief: CustomerBrief, mention) -> ChurnSignal:
    return ChurnSignal(
        "cancellation",
        brief,
        f'Ticket #{mention.id} ({mention.created:%d %b}) says "{mention.phrase}".',
        f"{brief.owner_name or 'The account owner'}: contact {brief.name} today, before the cancellation goes "
        f"through; answer ticket #{mention.id} together with support.",
        (mention.id,),
    )
