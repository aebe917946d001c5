"""Fixtures for every helpdesk test module."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.apps import apps

ANALYSIS_WAIT_SECONDS = 60


@pytest.fixture(autouse=True)
def _live_tickets_leave_no_ai_ledger_rows(request) -> Iterator[None]:
    """Live tests create tickets that the real worker analyses (helpdesk.services.ticket_ai). Its AI ledger rows
    and vectors are committed in the shared test workspace, where the AI app's tests expect an empty ledger: wait
    for those analyses to finish, then remove what they wrote (before live_data deletes the tickets themselves).

    The models are looked up by name: ai.facade deliberately has no way to delete ledger rows.
    """
    if "live_data" not in request.fixturenames:
        yield
        return
    live_data = request.getfixturevalue("live_data")
    marks = live_data.run(_high_water_marks)
    yield
    live_data.run(lambda: _forget_ai_output_since(marks))


def _high_water_marks() -> dict[str, int]:
    from helpdesk.models import Ticket

    run_model = apps.get_model("ai", "AIRun")
    return {
        "run": run_model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "ticket": Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    }


def _forget_ai_output_since(marks: dict[str, int]) -> None:
    from helpdesk.models import Ticket

    tickets = Ticket.objects.filter(pk__gt=marks["ticket"])
    deadline = time.monotonic() + ANALYSIS_WAIT_SECONDS
    while tickets.filter(ai_analysis_status=Ticket.AnalysisStatus.PENDING).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    ids = [str(pk) for pk in tickets.values_list("pk", flat=True)]
    apps.get_model("ai", "Embedding").objects.filter(source="helpdesk.ticket", object_id__in=ids).delete()
    apps.get_model("ai", "AIRun").objects.filter(pk__gt=marks["run"]).delete()
