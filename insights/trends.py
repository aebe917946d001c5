"""Recurring defects: clusters of recent tickets whose volume rises against their own baseline, tracked across runs,
each linked to the companies it touches and to their open leads and pending quotes (support → revenue).

Vectors are the tickets' topic embeddings (helpdesk.facade.TOPIC_SOURCE, the local MiniLM model through ai.facade):
`ticket_topics_index` embeds the window's tickets that have none yet (only the new ones: unchanged texts are
skipped), `recurring_defects_detect` only reads them. The statistical rule is in insights.clustering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from ai import facade as ai
from customers import facade as customers
from helpdesk import facade as helpdesk
from leads import facade as leads
from quotes import facade as quotes

from . import clustering
from .models import Trend

WINDOW_DAYS = 28
RECENT_DAYS = 1
TRACK_SIMILARITY = 0.8  # a spike this close to a known trend's centroid is that trend again (no new alert)
TRACK_OVERLAP = 0.3  # … as is one whose tickets are this much a known trend's already
MAX_TICKETS_KEPT = 500
INDEX_BATCH = 256


@dataclass
class DefectRun:
    """What one detection run found: the spiking trends (new ones first), and how much it looked at."""

    now: datetime
    tickets: int = 0
    embedded: int = 0
    spiking: list[Trend] = field(default_factory=list)
    new: list[Trend] = field(default_factory=list)


def ticket_topics_index(*, now: datetime | None = None, window_days: int = WINDOW_DAYS) -> int:
    """Embeds the topics of the window's tickets that have no vector yet; returns how many. A ticket's topic is
    what it was opened about: later edits are not re-embedded (the hourly run would reread every text)."""
    now = now or timezone.now()
    ids = helpdesk.ticket_ids_in_window(since=now - timedelta(days=window_days), until=now)
    embedded = ai.has_vectors(source=helpdesk.TOPIC_SOURCE, object_ids=ids)
    missing = [pk for pk in ids if str(pk) not in embedded]
    written = 0
    for start in range(0, len(missing), INDEX_BATCH):
        texts = helpdesk.ticket_topic_texts(missing[start : start + INDEX_BATCH])
        items = [(pk, text) for pk, text in texts.items() if text.strip()]
        written += ai.index_texts(source=helpdesk.TOPIC_SOURCE, items=items)
    return written


def recurring_defects_detect(
    *, window_days: int = WINDOW_DAYS, recent_days: int = RECENT_DAYS, now: datetime | None = None
) -> DefectRun:
    """Finds the clusters of tickets opened in the last `recent_days` that spike against the rest of the
    `window_days` window, and records them as Trend rows.

    Rule (insights.clustering): average-linkage clusters of the recent tickets (cosine distance ≤ 0.5); a
    cluster's volume is the number of tickets within cosine 0.6 of its centroid, r recent and b in the baseline;
    λ = (b + ½)·N_recent/N_baseline; it spikes when r ≥ 5, r ≥ 3λ and P(Poisson(λ) ≥ r) ≤ 1e-4.

    Tracking: a spike whose centroid is within cosine 0.8 of a known defect trend's, or 30 % of whose tickets that
    trend holds already, is that trend (its tickets and figures are updated, its alert is not sent again); other
    spikes become new trends. Known trends that did not
    spike this run go back to "watching".
    """
    now = now or timezone.now()
    points = helpdesk.ticket_points(since=now - timedelta(days=window_days), until=now)
    run = DefectRun(now=now, tickets=len(points))
    ids, vectors = ai.get_vectors(source=helpdesk.TOPIC_SOURCE, object_ids=[point.id for point in points])
    run.embedded = len(ids)
    by_id = {point.id: point for point in points}
    ordered = [by_id[int(pk)] for pk in ids]
    recent_start = now - timedelta(days=recent_days)
    is_recent = np.array([point.created >= recent_start for point in ordered], dtype=bool)
    recent_points = [point for point, recent in zip(ordered, is_recent, strict=True) if recent]
    spikes = clustering.spikes_find(vectors, is_recent)
    corpus: list[str] = []
    if spikes:
        texts = helpdesk.ticket_topic_texts([point.id for point in recent_points])
        corpus = [texts.get(point.id, point.subject) for point in recent_points]
    with transaction.atomic():
        known = list(Trend.objects.select_for_update().filter(kind=Trend.Kind.DEFECT))
        touched: set[int] = set()
        for spike in spikes:
            member_ids = {recent_points[index].id for index in spike.members}
            trend, created = _trend_for(spike, member_ids, known, now)
            _trend_fill(trend, spike, recent_points, corpus, now)
            trend.save()
            if created:
                known.append(trend)
                run.new.append(trend)
            if trend.pk not in touched:
                touched.add(trend.pk)
                run.spiking.append(trend)
        Trend.objects.filter(kind=Trend.Kind.DEFECT, status=Trend.Status.SPIKING).exclude(pk__in=touched).update(
            status=Trend.Status.WATCHING
        )
    return run


def _trend_for(spike: clustering.Spike, member_ids: set[int], known: list[Trend], now: datetime) -> tuple[Trend, bool]:
    """The known trend this spike continues, else a new one. It continues a trend whose centroid is within
    TRACK_SIMILARITY, or one that already holds TRACK_OVERLAP of its tickets (the same tickets clustered a little
    differently as the window slides must not become a second trend)."""
    if known:
        centroids = clustering.normalise(np.array([trend.centroid for trend in known], dtype=np.float32))
        similarity = centroids @ spike.centroid
        best = int(np.argmax(similarity))
        if similarity[best] >= TRACK_SIMILARITY:
            return known[best], False
        overlaps = [len(member_ids & set(trend.ticket_ids)) for trend in known]
        best = int(np.argmax(overlaps))
        if overlaps[best] >= TRACK_OVERLAP * len(member_ids):
            return known[best], False
    return Trend(kind=Trend.Kind.DEFECT, first_seen=now), True


def _trend_fill(trend: Trend, spike: clustering.Spike, recent_points: list, corpus: list[str], now: datetime) -> None:
    members = [recent_points[index] for index in spike.members]
    keywords = clustering.keywords_find(corpus, [int(index) for index in spike.members])
    examples = list(dict.fromkeys(point.subject for point in members))[:3]
    if trend.pk is None:  # a trend keeps its first name and centroid: that is how people and later runs know it
        trend.name = (", ".join(keywords[:3]) or examples[0])[:200].capitalize()
        trend.keywords, trend.examples = keywords, examples
        trend.centroid = [round(float(value), 6) for value in spike.centroid]
    ticket_ids = list(dict.fromkeys([point.id for point in members] + list(trend.ticket_ids)))
    trend.ticket_ids = ticket_ids[:MAX_TICKETS_KEPT]
    trend.customer_ids = sorted(set(trend.customer_ids) | {point.customer_id for point in members})
    trend.figures = {
        "recent": spike.recent,
        "baseline": spike.baseline,
        "expected": round(spike.expected, 2),
        "p_value": float(f"{spike.p_value:.3g}"),
        "at": now.isoformat(),
    }
    trend.status, trend.last_seen = Trend.Status.SPIKING, now


# --- Support → revenue ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendImpact:
    """What a trend touches: its tickets, the companies that reported it, their open leads and pending quotes."""

    tickets: list[tuple[int, str, int, str]]
    companies: list
    open_leads: list
    pending_quotes: list

    @property
    def pipeline_value(self) -> dict[str, float]:
        """Open lead value at stake per currency (summed from the leads listed, nothing else)."""
        totals: dict[str, float] = {}
        for lead in self.open_leads:
            totals[lead.currency] = totals.get(lead.currency, 0.0) + float(lead.value)
        return totals


def trend_impact(trend: Trend, *, ticket_limit: int = 50) -> TrendImpact:
    """The support-to-revenue link of one trend, through the helpdesk, customers, leads and quotes facades."""
    return trend_impacts([trend], ticket_limit=ticket_limit)[0]


def trend_impacts(trends: Sequence[Trend], *, ticket_limit: int = 50) -> list[TrendImpact]:
    """The support-to-revenue link of each trend, in four queries however many trends (one per facade)."""
    customer_ids = sorted({customer_id for trend in trends for customer_id in trend.customer_ids})
    ticket_ids = [ticket_id for trend in trends for ticket_id in trend.ticket_ids[:ticket_limit]]
    tickets = helpdesk.ticket_brief_rows(ticket_ids)
    briefs = customers.customer_briefs(customer_ids=customer_ids)
    open_leads = leads.open_leads_for_customers(customer_ids=customer_ids)
    pending = quotes.pending_quotes_for_customers(customer_ids=customer_ids)
    impacts = []
    for trend in trends:
        own_tickets, own_customers = set(trend.ticket_ids[:ticket_limit]), set(trend.customer_ids)
        impacts.append(
            TrendImpact(
                tickets=[row for row in tickets if row[0] in own_tickets],
                companies=sorted((briefs[pk] for pk in own_customers if pk in briefs), key=lambda brief: brief.name),
                open_leads=[lead for lead in open_leads if lead.customer_id in own_customers],
                pending_quotes=[quote for quote in pending if quote.customer_id in own_customers],
            )
        )
    return impacts
