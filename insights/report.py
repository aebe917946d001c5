"""The trend report (weekly by email, or on demand): what rose, what fell, what is new, over one period against the
one before. Extractive: every number is a count read from the data in this module (tickets per category, a trend's
detection figures, signals found), and every sentence is a template filled with those counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts import facade as accounts
from core.emails import Attachment, templated_email_send, workspace_name
from core.links import workspace_url
from helpdesk import facade as helpdesk

from . import churn, hurdles, report_pdf
from .contracts import Series, WidgetData
from .models import Trend

TOP = 5


@dataclass(frozen=True)
class Change:
    label: str
    now: int
    before: int

    @property
    def delta(self) -> int:
        return self.now - self.before


@dataclass
class TrendReport:
    start: datetime
    end: datetime
    tickets_now: int
    tickets_before: int
    new: list[Trend] = field(default_factory=list)  # defect trends first seen in the period
    spiking: list[Trend] = field(default_factory=list)  # still above their baseline at the period's end
    rose: list[Change] = field(default_factory=list)
    fell: list[Change] = field(default_factory=list)
    churn_signals: list = field(default_factory=list)
    hurdles: hurdles.QuoteHurdles | None = None

    @property
    def period_days(self) -> int:
        return (self.end - self.start).days

    def sentences(self) -> list[str]:
        """The report's summary: templates filled with the counts above, nothing else."""
        lines = [
            f"{self.tickets_now} tickets were opened, against {self.tickets_before} the {self.period_days} days before."
        ]
        if self.new:
            lines.append(
                f"{len(self.new)} new recurring problem(s) were detected: "
                + "; ".join(
                    f"{trend.name} ({trend.figures.get('recent', 0)} tickets in a day, "
                    f"{len(trend.customer_ids)} compan{'y' if len(trend.customer_ids) == 1 else 'ies'})"
                    for trend in self.new
                )
                + "."
            )
        for change in self.rose[:3]:
            lines.append(f"{change.label} rose from {change.before} to {change.now} tickets.")
        for change in self.fell[:3]:
            lines.append(f"{change.label} fell from {change.before} to {change.now} tickets.")
        if self.churn_signals:
            lines.append(f"{len(self.churn_signals)} churn signal(s) are open.")
        if self.hurdles and self.hurdles.questions:
            top = self.hurdles.questions[0]
            lines.append(f"The question open quotes raise most: “{top.name}” ({top.count} quotes).")
        return lines


def trend_report_generate(*, period_days: int = 7, now: datetime | None = None) -> TrendReport:
    end = now or timezone.now()
    start, before = end - timedelta(days=period_days), end - timedelta(days=2 * period_days)
    current = helpdesk.ticket_category_counts(since=start, until=end)
    previous = helpdesk.ticket_category_counts(since=before, until=start)
    changes = [Change(label, current.get(label, 0), previous.get(label, 0)) for label in current.keys() | previous]
    defects = Trend.objects.filter(kind=Trend.Kind.DEFECT)
    return TrendReport(
        start=start,
        end=end,
        tickets_now=sum(current.values()),
        tickets_before=sum(previous.values()),
        new=list(defects.filter(first_seen__gte=start, first_seen__lt=end).order_by("first_seen", "id")),
        spiking=list(defects.filter(status=Trend.Status.SPIKING, first_seen__lt=start).order_by("name", "id")),
        rose=sorted((c for c in changes if c.delta > 0), key=lambda c: (-c.delta, c.label))[:TOP],
        fell=sorted((c for c in changes if c.delta < 0), key=lambda c: (c.delta, c.label))[:TOP],
        churn_signals=churn.churn_signals_detect(now=end),
        hurdles=hurdles.quote_hurdles_detect(days=period_days * 4, now=end),
    )


def trend_report_send(*, now: datetime | None = None) -> int:
    """Emails this week's report, with its PDF attached, to the alert recipients; returns how many addresses it
    went to."""
    report = trend_report_generate(now=now)
    recipients = accounts.capability_emails("insights.view", roles=settings.INSIGHTS_ALERT_ROLES)
    if not recipients:
        return 0
    context = {
        "report": report,
        "url": workspace_url(reverse("insights:trend_list")),
        "workspace_name": workspace_name(),
    }
    pdf = Attachment(trend_report_filename(report), trend_report_pdf(report), "application/pdf")
    for address in recipients:
        templated_email_send("insights/email/trend_report", address, context, attachments=[pdf])
    return len(recipients)


# --- as a PDF -------------------------------------------------------------------------------------------------------


def trend_report_filename(report: TrendReport) -> str:
    return f"trend-report-{report.start.date().isoformat()}-{report.end.date().isoformat()}.pdf"


def trend_report_payload(report: TrendReport) -> dict:
    """What the PDF template reads: the same facts as the page and the email, as text and a chart."""
    changes = [*report.rose, *report.fell]
    chart = WidgetData(
        key="categories",
        title="Ticket categories",
        kind="bar",
        labels=tuple(change.label for change in changes),
        series=(
            Series("Now", tuple(float(change.now) for change in changes)),
            Series("Before", tuple(float(change.before) for change in changes)),
        ),
    )
    found = report.hurdles
    hurdles_lines = []
    if found:
        hurdles_lines += [f"Decline reason “{reason.name}”: {reason.count} quote(s)" for reason in found.reasons[:5]]
        hurdles_lines += [f"{rate.label}: {rate.lost} lost, {rate.won} won" for rate in found.products[:5]]
        hurdles_lines += [f"{rate.label}: {rate.lost} lost, {rate.won} won" for rate in found.discounts]
        hurdles_lines += [
            f"Stage {stage.stage}: {stage.stalled} of {stage.open} open leads stalled, {stage.lost_from} lost from it"
            for stage in found.stages[:5]
        ]
    return {
        "title": "Trend report",
        "workspace": workspace_name(),
        "period": f"{report.start:%-d %b} – {report.end:%-d %b %Y}",
        "url": workspace_url(reverse("insights:trend_report")),
        "sentences": report.sentences(),
        "new": [
            f"{trend.name}: {trend.figures.get('recent', 0)} tickets in a day against "
            f"{trend.figures.get('expected', 0)} expected, {len(trend.customer_ids)} companies"
            for trend in report.new
        ],
        "changes": report_pdf.chart_payload(chart),
        "churn": [
            f"{signal.customer.name} — {signal.label}: {signal.detail} Owner: {signal.owner}. Next: {signal.next_step}"
            for signal in report.churn_signals
        ],
        "hurdles": hurdles_lines,
    }


def trend_report_pdf(report: TrendReport) -> bytes:
    return report_pdf.trend_report_pdf(trend_report_payload(report), timestamp=report.end)
