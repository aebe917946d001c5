"""A scheduled dashboard report, rendered and emailed: the dashboard's widgets for the period the schedule covers,
as an HTML email with each chart an inline PNG, as a PDF attachment, or both (insights/report_pdf.py renders them).

`report_schedules_send_due` is the beat task's work in one workspace; each due schedule is claimed under a row lock
and sent inside that transaction (insights/schedules.py), so a failure rolls the claim back and the next run tries
again, and one schedule's failure never stops the others.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.emails import Attachment, InlineImage, templated_email_send, workspace_name
from core.links import workspace_url

from . import report_pdf
from .contracts import MetricFilters
from .dashboards import dashboard_panels
from .models import ReportSchedule
from .schedules import (
    may_receive,
    report_period,
    report_schedule_claim,
    report_schedule_failed,
    report_schedule_sent,
    schedule_layout,
    schedule_recipients,
    schedule_title,
    workspace_zone,
)

logger = logging.getLogger(__name__)
EMAIL = "insights/email/dashboard_report"
PDF_TYPE = "application/pdf"


def dashboard_path(slug: str) -> str:
    """The dashboard page of a preset's name or a custom dashboard's id."""
    return reverse("insights:dashboard", args=[slug])


def dashboard_period_url(slug: str, start: date, end: date) -> str:
    query = urlencode({"period": "custom", "start": start.isoformat(), "end": end.isoformat()})
    return workspace_url(f"{dashboard_path(slug)}?{query}")


@dataclass
class RenderedReport:
    title: str
    heading: report_pdf.ReportHeading
    widgets: list[dict]  # report_pdf.widget_payload of each panel, with its chart's `cid` ("" without one)
    pdf: bytes | None = None
    charts: list[InlineImage] = field(default_factory=list)

    @property
    def filename(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") or "report"
        return f"{slug}-{self.heading.start.isoformat()}-{self.heading.end.isoformat()}.pdf"


def report_render(schedule: ReportSchedule, *, today: date, pdf: bool, charts: bool) -> RenderedReport:
    start, end = report_period(schedule, today=today)
    layout = schedule_layout(schedule)
    panels = dashboard_panels(layout, MetricFilters(start, end))
    url = dashboard_period_url(layout.slug, start, end)
    title = schedule_title(schedule)
    heading = report_pdf.ReportHeading(title, workspace_name(), start, end, url)
    payload = report_pdf.dashboard_payload(heading, panels, {panel.index: url for panel in panels})
    report = RenderedReport(title, heading, payload["widgets"])
    for number, widget in enumerate(report.widgets):
        widget["cid"] = f"chart-{number}" if charts and widget["image"] else ""
    cids = [widget["cid"] for widget in report.widgets if widget["cid"]]
    if cids:  # the PNG pages come out in the widgets' order
        images = report_pdf.dashboard_chart_pngs(payload)
        report.charts = [InlineImage(cid, png) for cid, png in zip(cids, images, strict=True)]
    if pdf:
        report.pdf = report_pdf.dashboard_pdf(payload)
    return report


def report_email_send(schedule: ReportSchedule, recipients: list, *, today: date) -> int:
    """Renders once and emails each recipient; returns how many got it. Raises when nobody did (so the claim rolls
    back and the next run retries); one address failing after others got it is logged, not retried, so nobody
    receives a period's report twice."""
    fmt = schedule.format
    report = report_render(schedule, today=today, pdf=fmt != "html", charts=fmt != "pdf")
    context = {"report": report, "schedule": schedule, "show_figures": fmt != "pdf", "workspace_name": workspace_name()}
    attachments = [Attachment(report.filename, report.pdf, PDF_TYPE)] if report.pdf else []
    delivered, failure = 0, None
    for user in recipients:
        try:
            templated_email_send(EMAIL, user.email, context, attachments=attachments, inline_images=report.charts)
            delivered += 1
        except Exception as exc:  # one bad address must not stop the others
            failure = exc
            logger.exception("could not email report schedule %s to user %s", schedule.pk, user.pk)
    if recipients and not delivered and failure is not None:
        raise failure
    return delivered


def report_schedule_send_due(*, schedule_id: int, now: datetime) -> bool:
    """Sends one due schedule unless another worker holds it or already sent this period's; True when sent."""
    with transaction.atomic():
        schedule = report_schedule_claim(schedule_id=schedule_id, now=now)
        if schedule is None:
            return False
        recipients = schedule_recipients(schedule)
        today = now.astimezone(workspace_zone()).date()
        delivered = report_email_send(schedule, recipients, today=today) if recipients else 0
        report_schedule_sent(schedule=schedule, now=now, delivered=delivered > 0)
    return delivered > 0


def report_schedules_send_due(*, now: datetime | None = None) -> int:
    """Every due schedule of this workspace, each on its own; returns how many were sent."""
    now = now or timezone.now()
    due = ReportSchedule.objects.filter(enabled=True, next_due__lte=now).order_by("next_due", "id")
    sent = 0
    for schedule_id in due.values_list("pk", flat=True):
        try:
            sent += report_schedule_send_due(schedule_id=schedule_id, now=now)
        except Exception as exc:
            logger.exception("report schedule %s failed; the next run retries it", schedule_id)
            report_schedule_failed(schedule_id=schedule_id, error=f"{type(exc).__name__}: {exc}")
    return sent


def report_schedule_send_now(*, schedule_id: int, user_id: int | None = None) -> int:
    """Send now: this period's report at once, to one person (`user_id`) or to the recipients; the schedule's own
    rhythm is left as it is."""
    schedule = ReportSchedule.objects.select_related("dashboard").filter(pk=schedule_id).first()
    if schedule is None:
        return 0
    recipients = schedule_recipients(schedule)
    if user_id is not None:
        recipients = [user for user in get_user_model().objects.filter(pk=user_id) if may_receive(user)]
    today = timezone.now().astimezone(workspace_zone()).date()
    return report_email_send(schedule, recipients, today=today) if recipients else 0


def report_schedule_pdf(schedule: ReportSchedule, *, today: date | None = None) -> RenderedReport:
    """The PDF the schedule would send today (the page's preview)."""
    today = today or timezone.now().astimezone(workspace_zone()).date()
    return report_render(schedule, today=today, pdf=True, charts=False)
