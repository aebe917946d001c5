"""Under CI=true a missing chromium fails the run: a skipped browser suite would otherwise pass unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def _collect_browser_tests(**env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0"]
    command.append("core/tests/test_browser_smoke.py")
    return subprocess.run(
        command,
        cwd=settings.BASE_DIR,
        env=os.environ | {"SWITCHBOARD_CHROMIUM": "/nonexistent/chromium"} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_missing_browser_fails_the_run_under_ci():
    result = _collect_browser_tests(CI="true")

    assert result.returncode != 0
    assert "CI=true and chromium is missing" in result.stdout + result.stderr


def test_a_missing_browser_only_skips_outside_ci():
    result = _collect_browser_tests(CI="")

    assert result.returncode == 0, result.stdout + result.stderr
