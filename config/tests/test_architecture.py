"""Architecture rules import-linter cannot express: services and selectors stay free of HTTP, DRF, views, forms."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
FORBIDDEN_PREFIXES = ("django.http", "rest_framework", "django.shortcuts")
FORBIDDEN_LOCAL = {"views", "forms"}
LAYER_FILES = sorted(
    path
    for pattern in ("*/services.py", "*/selectors.py", "*/services/*.py", "*/selectors/*.py")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts
)


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names.append("." * node.level + module)
            names.extend(f"{module}.{alias.name}" if module else alias.name for alias in node.names)
    return names


def test_there_are_layer_files_to_check():
    assert {path.parent.name for path in LAYER_FILES} >= {"customers", "tenants", "accounts"}


@pytest.mark.parametrize("path", LAYER_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_services_and_selectors_do_not_import_http_drf_views_or_forms(path):
    offending = [
        name
        for name in _imports(path)
        if name.startswith(FORBIDDEN_PREFIXES) or set(name.lstrip(".").split(".")) & FORBIDDEN_LOCAL
    ]
    assert not offending, f"{path.relative_to(ROOT)} imports {offending}"


def test_template_comments_on_several_lines_use_the_comment_tag():
    """Django's {# #} ends at the line's end: a multi-line one is printed on the page as text."""
    offending = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]
    assert not offending, f"use {{% comment %}} for these: {offending}"
