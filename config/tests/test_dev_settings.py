"""Development defaults: DEBUG is off unless `make run` turns it on, and each checkout gets secrets of its own."""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys

import pytest

from core.deployment import AI_KEY_MIN_LENGTH, SECRET_KEY_MIN_LENGTH, secret_problem
from core.testing.live import ROOT


@pytest.fixture
def devstack(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("devstack_under_test", ROOT / "scripts" / "devstack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "VAR", tmp_path)
    monkeypatch.setattr(module, "DEV_SECRETS", tmp_path / "dev-secrets.env")
    return module


def test_debug_is_off_unless_the_environment_turns_it_on():
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    code = "from django.conf import settings; print(settings.DEBUG)"
    results = [
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env | extra, capture_output=True, text=True)
        for extra in (
            {"DJANGO_SETTINGS_MODULE": "config.settings.base"},
            {"DJANGO_SETTINGS_MODULE": "config.settings.base", "DEBUG": "1"},
        )
    ]

    assert [result.stdout.strip() for result in results] == ["False", "True"], [r.stderr for r in results]


def test_make_run_turns_debug_on_and_links_use_its_port(devstack, monkeypatch):
    for name in ("DEBUG", "SWITCHBOARD_URL_SCHEME", "SWITCHBOARD_URL_PORT"):
        monkeypatch.delenv(name, raising=False)

    assert devstack.developer_env(8000) == {
        "DEBUG": "1",
        "SWITCHBOARD_URL_SCHEME": "http",
        "SWITCHBOARD_URL_PORT": "8000",
    }


def test_the_developer_environment_wins_over_make_runs_defaults(devstack, monkeypatch):
    monkeypatch.setenv("DEBUG", "0")

    assert "DEBUG" not in devstack.developer_env(8000)


def test_each_checkout_gets_strong_private_secrets_kept_between_runs(devstack):
    first = devstack.dev_secrets()
    again = devstack.dev_secrets()

    assert first == again
    assert secret_problem("SECRET_KEY", first["SECRET_KEY"], min_length=SECRET_KEY_MIN_LENGTH) is None
    assert secret_problem("AI_ENCRYPTION_KEYS", first["AI_ENCRYPTION_KEYS"], min_length=AI_KEY_MIN_LENGTH) is None
    assert stat.S_IMODE(devstack.DEV_SECRETS.stat().st_mode) == 0o600
