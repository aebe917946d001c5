"""Report pages: scheduled dashboard reports (list, create, edit, delete, send now, a preview of the PDF) and the
trend report as a PDF. Anyone who sees insights may schedule a report to themselves; to others, only people who
manage insights (insights.schedules holds the rules)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.forms import add_service_errors
from core.htmx import hx_redirect
from core.outbox import enqueue

from . import report, report_email, schedules, tasks
from .forms_reports import ReportScheduleForm, schedule_initial
from .models import ReportSchedule

FORM_TEMPLATE = "insights/report_schedule_form.html"


def _visible_or_404(request: HttpRequest, schedule_id: int) -> ReportSchedule:
    schedule = schedules.schedules_visible(user=request.user).filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404("No such report schedule in this workspace.")
    return schedule


def _editable_or_404(request: HttpRequest, schedule_id: int) -> ReportSchedule:
    schedule = schedules.schedules_editable(user=request.user).filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404("No report schedule you may change has this number.")
    return schedule


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    """Always a download: a PDF opened in our origin could run its scripts there."""
    response = HttpResponse(pdf, content_type=report_email.PDF_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@capability_required("insights.view")
def report_schedule_list(request: HttpRequest) -> HttpResponse:
    rows = [
        (schedule, schedules.schedule_title(schedule), schedules.can_edit(user=request.user, schedule=schedule))
        for schedule in schedules.schedules_visible(user=request.user)
    ]
    return render(request, "insights/report_schedule_list.html", {"rows": rows})


def _form_data(form: ReportScheduleForm) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "dashboard": data["dashboard"],
        "frequency": data["frequency"],
        "period": data["period"],
        "fmt": data["format"],
        "recipients": data["recipients"],
    }


@require_http_methods(["GET", "POST"])
@capability_required("insights.view")
def report_schedule_create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = {"frequency": "weekly", "format": "html", "recipients": [request.user], "enabled": True}
        initial["dashboard"] = request.GET.get("dashboard", "")
        form = ReportScheduleForm(initial=initial, actor=request.user)
        return render(request, FORM_TEMPLATE, {"form": form})
    form = ReportScheduleForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            schedule = schedules.report_schedule_create(actor=request.user, **_form_data(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            due = timezone.localtime(schedule.next_due, schedules.workspace_zone())
            messages.success(request, f"Scheduled. The first report goes out {due:%a %-d %b at %H:%M}.")
            return hx_redirect(request, reverse("insights:report_schedule_list"))
    return render(request, FORM_TEMPLATE, {"form": form}, status=400)


@require_http_methods(["GET", "POST"])
@capability_required("insights.view")
def report_schedule_edit(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _editable_or_404(request, schedule_id)
    if request.method == "GET":
        form = ReportScheduleForm(initial=schedule_initial(schedule), actor=request.user)
        return render(request, FORM_TEMPLATE, {"form": form, "schedule": schedule})
    form = ReportScheduleForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            schedules.report_schedule_update(
                schedule=schedule, actor=request.user, enabled=form.cleaned_data["enabled"], **_form_data(form)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Report schedule saved.")
            return hx_redirect(request, reverse("insights:report_schedule_list"))
    return render(request, FORM_TEMPLATE, {"form": form, "schedule": schedule}, status=400)


@require_POST
@capability_required("insights.view")
def report_schedule_delete(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _editable_or_404(request, schedule_id)
    schedules.report_schedule_delete(schedule=schedule)
    messages.success(request, "Report schedule deleted.")
    return hx_redirect(request, reverse("insights:report_schedule_list"))


@require_POST
@capability_required("insights.view")
def report_schedule_send(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """Queues this period's report now: `to=me` (anyone who sees the schedule) or `to=recipients` (who may change
    it and may schedule to those people). The schedule's own rhythm is unchanged."""
    schedule = _visible_or_404(request, schedule_id)
    target = request.POST.get("to", "me")
    if target == "recipients":
        others = schedule.recipients.exclude(pk=request.user.pk).exists()
        if not schedules.can_edit(user=request.user, schedule=schedule) or (
            others and not user_can(request.user, "insights.manage")
        ):
            raise PermissionDenied("Sending to other people needs insights management.")
        enqueue(tasks.report_schedule_send_now_task, schedule.pk)
        text = "The report is on its way to its recipients."
    elif target == "me":
        enqueue(tasks.report_schedule_send_now_task, schedule.pk, request.user.pk)
        text = f"The report is on its way to {request.user.email}."
    else:
        return HttpResponse("Send to “me” or to “recipients”.", status=400, content_type="text/plain")
    messages.success(request, text)
    if getattr(request, "htmx", False):
        return HttpResponse("")  # the toast comes out-of-band (core.htmx), the page stays
    return hx_redirect(request, reverse("insights:report_schedule_list"))


@require_GET
@capability_required("insights.view")
def report_schedule_preview(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """The PDF the schedule would send today, as a download."""
    rendered = report_email.report_schedule_pdf(_visible_or_404(request, schedule_id))
    return pdf_response(rendered.pdf or b"", rendered.filename)


@require_GET
@capability_required("insights.view")
def trend_report_pdf(request: HttpRequest) -> HttpResponse:
    """The trend report of the last 7 days (the page /insights/trends/report/) as a PDF download."""
    generated = report.trend_report_generate()
    return pdf_response(report.trend_report_pdf(generated), report.trend_report_filename(generated))
