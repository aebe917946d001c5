"""The trend report as a PDF: attached to the weekly email, and offered on its page (test_views_reports.py)."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import Role
from accounts.tests.factories import UserFactory
from insights import report, report_pdf
from insights.tests.factories import TrendFactory
from insights.tests.test_report_pdf import _query


@pytest.mark.django_db
def test_the_weekly_trend_report_email_carries_the_report_as_a_pdf():
    UserFactory(role=Role.OWNER, email="boss@example.test")
    TrendFactory(name='Export #panic("x") ] fails')
    assert report.trend_report_send() >= 1
    message = next(message for message in mail.outbox if message.to == ["boss@example.test"])
    ((name, content, mimetype),) = message.attachments
    assert name.startswith("trend-report-") and mimetype == "application/pdf" and content.startswith(b"%PDF")
    generated = report.trend_report_generate()
    payload = report.trend_report_payload(generated)
    assert any('Export #panic("x") ] fails' in line for line in payload["new"])
    assert _query(report_pdf.TREND_TEMPLATE, payload, "<summary>") == [generated.sentences()]
