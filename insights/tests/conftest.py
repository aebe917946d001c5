"""Every insights test starts from empty rollup tables.

The live tests' servers run with the real settings, so their worker keeps rollups in the shared test workspace
from the tickets, leads and quotes those tests commit (and removes): counters they leave would add to what a test
here counts. Emptied inside the test's own transaction, so they come back for the live tests after it."""

import pytest


@pytest.fixture(autouse=True)
def _empty_rollups(request) -> None:
    if "db" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    if request.node.get_closest_marker("browser"):
        # Browser tests read what the live worker commits: rows deleted (and locked) by this test's transaction
        # would block the worker's upserts until the test ends.
        return
    from insights.models import DailyRollup, RollupSource

    request.getfixturevalue("db")
    DailyRollup.objects.all().delete()
    RollupSource.objects.all().delete()
