"""Architecture rules import-linter cannot express: services and selectors stay free of HTTP, DRF, views, forms;
the HTMX kit is not copied back into apps; and the allow-list contract import-linter runs (config/import_contracts.py)
really closes every module but the entry points."""

from __future__ import annotations

import ast
import functools
import tomllib
from pathlib import Path
from unittest import mock

import grimp
import pytest

from config.import_contracts import OnlyThroughContract

ROOT = Path(__file__).resolve().parent.parent.parent
FORBIDDEN_PREFIXES = ("django.http", "rest_framework", "django.shortcuts")
FORBIDDEN_LOCAL = {"views", "forms"}
APPS = sorted(path.parent for path in ROOT.glob("*/apps.py") if ".venv" not in path.parts)


def _layer_files(app: Path) -> list[Path]:
    """An app's services and selectors, as modules or as packages at any depth (services/ticket_ai/…)."""
    files = [app / f"{layer}.py" for layer in ("services", "selectors") if (app / f"{layer}.py").exists()]
    for layer in ("services", "selectors"):
        files.extend(path for path in (app / layer).rglob("*.py") if "tests" not in path.parts)
    return files


LAYER_FILES = sorted(path for app in APPS for path in _layer_files(app))


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


def test_the_checks_reach_into_sub_packages_of_services_and_selectors():
    checked = {str(path.relative_to(ROOT)) for path in LAYER_FILES}
    assert {"helpdesk/services/ticket_ai/analysis.py", "helpdesk/services/sla/clocks.py"} <= checked
    assert "helpdesk/selectors/tickets.py" in checked


@pytest.mark.parametrize("path", LAYER_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_services_and_selectors_do_not_import_http_drf_views_or_forms(path):
    offending = [
        name
        for name in _imports(path)
        if name.startswith(FORBIDDEN_PREFIXES) or set(name.lstrip(".").split(".")) & FORBIDDEN_LOCAL
    ]
    assert not offending, f"{path.relative_to(ROOT)} imports {offending}"


# Rendering belongs to the app's live.py (pushes), emails.py (email bodies), views and template tags.
RENDERING = (
    "django.template",
    "django.shortcuts.render",
    "django.utils.safestring.mark_safe",
    "django.utils.html.format_html",
)
RENDERING_NAMES = {"render_to_string", "get_template", "select_template", "mark_safe", "format_html"}


def rendering_imports(source: str) -> list[str]:
    """Imports in `source` that render templates or build HTML (template loaders, mark_safe, format_html)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names if alias.name.startswith(RENDERING))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            found.extend(
                f"{module}.{alias.name}"
                for alias in node.names
                if f"{module}.{alias.name}".startswith(RENDERING) or alias.name in RENDERING_NAMES
            )
    return found


def test_the_rendering_check_catches_each_way_of_importing_a_renderer():
    source = """
from django.template.loader import render_to_string
from django.template import loader
import django.template.loader
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils import timezone
"""
    assert len(rendering_imports(source)) == 5


@pytest.mark.parametrize("path", LAYER_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_services_and_selectors_render_no_html(path):
    found = rendering_imports(path.read_text())
    assert not found, f"{path.relative_to(ROOT)} renders: {found}; move it to live.py, emails.py or the views"


def test_template_comments_on_several_lines_use_the_comment_tag():
    """Django's {# #} ends at the line's end: a multi-line one is printed on the page as text."""
    offending = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]
    assert not offending, f"use {{% comment %}} for these: {offending}"


# --- Outbound connections go through the egress guard (core/egress.py) -----------------------------

# Constructors and functions that open outbound connections by themselves: only core/egress.py may use them.
RAW_NETWORK_CALLS = {
    "httpx.Client",
    "httpx.AsyncClient",
    "httpx.HTTPTransport",
    "httpx.AsyncHTTPTransport",
    "httpx2.Client",
    "httpx2.AsyncClient",
    "httpx2.HTTPTransport",
    "httpx2.AsyncHTTPTransport",
    "httpcore.ConnectionPool",
    "httpcore2.ConnectionPool",
    "requests.Session",
    "requests.session",
    "urllib3.PoolManager",
    "urllib3.HTTPConnectionPool",
    "urllib3.HTTPSConnectionPool",
    "urllib.request.urlopen",
    "urllib.request.build_opener",
    "http.client.HTTPConnection",
    "http.client.HTTPSConnection",
    "socket.create_connection",
    "smtplib.SMTP",
    "smtplib.SMTP_SSL",
    "imaplib.IMAP4",
    "imaplib.IMAP4_SSL",
    "poplib.POP3",
    "poplib.POP3_SSL",
    "aiohttp.ClientSession",
    *(
        f"{module}.{verb}"
        for module in ("requests", "httpx", "httpx2")
        for verb in ("get", "post", "put", "patch", "delete", "head", "request")
    ),
}
# SDK clients that bring their own HTTP client unless handed a guarded one with this keyword.
SDK_CLIENTS = {
    "openai.OpenAI": "http_client",
    "openai.AzureOpenAI": "http_client",
    "openai.AsyncOpenAI": "http_client",
    "anthropic.Anthropic": "http_client",
    "anthropic.AsyncAnthropic": "http_client",
    "google.genai.Client": "http_options",
    "msal.ConfidentialClientApplication": "http_client",
    "msal.PublicClientApplication": "http_client",
    "stripe.StripeClient": "http_client",
    "twilio.rest.Client": "http_client",
}
# Every package of the product (apps of later issues join by themselves); not its tests, nor the test
# infrastructure (core/testing talks to the live test servers directly), nor scripts and bench run by hand.
PRODUCT_FILES = sorted(
    path
    for package in ROOT.iterdir()
    if (package / "__init__.py").exists()
    for path in package.rglob("*.py")
    if not {"tests", "testing", "migrations"} & set(path.relative_to(ROOT).parts)
)
EGRESS_MODULE = ROOT / "core" / "egress.py"


@pytest.fixture(scope="module", autouse=True)
def _parsed_files_forgotten_after_this_module():
    yield
    _tree.cache_clear()
    _qualified_calls.cache_clear()


@functools.cache
def _tree(source: str) -> ast.Module:
    """The parsed module, once per source: three checks below walk every product file (read only)."""
    return ast.parse(source)


@functools.cache
def _qualified_calls(source: str) -> tuple[tuple[int, str, frozenset[str]], ...]:
    """(line, dotted name with import aliases expanded, keyword names) of every call in `source`."""
    tree = _tree(source)
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        parts, target = [], node.func
        while isinstance(target, ast.Attribute):
            parts.append(target.attr)
            target = target.value
        if not isinstance(target, ast.Name):
            continue
        dotted = ".".join([aliases.get(target.id, target.id), *reversed(parts)])
        calls.append((node.lineno, dotted, frozenset(keyword.arg for keyword in node.keywords if keyword.arg)))
    return tuple(calls)


def unguarded_network_calls(source: str) -> list[str]:
    """Calls in `source` that would open a connection the egress guard does not see."""
    guarded_module = "core.egress" in source
    problems = []
    for line, name, keywords in _qualified_calls(source):
        if name in RAW_NETWORK_CALLS:
            problems.append(f"line {line}: {name}() opens connections itself; use core.egress")
        elif name in SDK_CLIENTS and (SDK_CLIENTS[name] not in keywords or not guarded_module):
            problems.append(f"line {line}: {name}() without {SDK_CLIENTS[name]}= from core.egress")
    return problems


def test_the_checker_catches_unguarded_clients_and_accepts_guarded_ones():
    unguarded = """
import requests, openai
import httpx2 as h
from google import genai
from smtplib import SMTP
requests.Session()
requests.get("https://example.com")
h.Client()
SMTP("mail.example.com")
openai.OpenAI(api_key="k")
genai.Client(api_key="k")
"""
    guarded = """
import openai
from google import genai
from core.egress import guarded_httpx_client
openai.OpenAI(api_key="k", http_client=guarded_httpx_client())
genai.Client(api_key="k", http_options=options)
"""
    assert len(unguarded_network_calls(unguarded)) == 6
    assert unguarded_network_calls(guarded) == []


def test_the_checker_sees_the_product_s_sdk_clients():
    """Not vacuous: the providers' SDK constructors are found (and pass because they hand over guarded clients)."""
    found = {name for path in PRODUCT_FILES for _, name, _ in _qualified_calls(path.read_text()) if name in SDK_CLIENTS}
    assert {"openai.OpenAI", "openai.AzureOpenAI", "anthropic.Anthropic", "google.genai.Client"} <= found
    assert "msal.ConfidentialClientApplication" in found


def test_outbound_connections_go_through_the_egress_guard():
    problems = [
        f"{path.relative_to(ROOT)} {problem}"
        for path in PRODUCT_FILES
        if path != EGRESS_MODULE
        for problem in unguarded_network_calls(path.read_text())
    ]
    assert not problems, "\n".join(problems)


# --- One HTMX kit, in core ----------------------------------------------------------------------------

# Helpers that live once in core (core/htmx.py, core/forms.py, core/validation.py): an app defining its own copy
# again drifts from the original (one of the two copies of _form_errors had lost its guard).
KIT_COPIES = {"_modal", "_modal_done", "_wants_fragment", "_form_errors", "_add_service_errors", "_required", "_choice"}


def test_apps_use_the_core_kit_instead_of_copies_of_it():
    copies = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for path in PRODUCT_FILES
        if path.parts[len(ROOT.parts)] != "core"
        for node in ast.walk(_tree(path.read_text()))
        if isinstance(node, ast.FunctionDef) and node.name in KIT_COPIES
    ]
    assert not copies, f"use core.htmx / core.forms / core.validation instead: {copies}"


# --- Import boundaries as allow-lists (config/import_contracts.py) ------------------------------------

IMPORT_LINTER = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
ONLY_THROUGH = [contract for contract in IMPORT_LINTER["contracts"] if contract["type"] == "only_through"]


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for importer, imported in imports:
        for module in (importer, imported):
            for depth in range(1, module.count(".") + 2):
                graph.add_module(".".join(module.split(".")[:depth]))
        graph.add_import(importer=importer, imported=imported, line_number=3, line_contents=f"import {imported}")
    return graph


def _check(graph: grimp.ImportGraph, **options):
    # Inside the test process zope.interface (Twisted, under Channels) lists a `__provides__` in dir() of classes
    # that getattr cannot read, which import-linter's misspelled-option check trips over; lint-imports is unaffected.
    no_typo_check = classmethod(lambda cls, contract_options: {})
    with mock.patch.object(OnlyThroughContract, "_get_unrecognized_option_errors", no_typo_check):
        contract = OnlyThroughContract(
            name="test",
            session_options={"root_packages": ["ai", "helpdesk"]},
            contract_options={"targets": ["ai"], "entry_points": ["facade", "contracts"], "importers": ["helpdesk"]}
            | options,
        )
    return contract.check(graph, verbose=False)


def test_the_allow_list_closes_a_module_added_to_ai_without_listing_it_anywhere():
    check = _check(_graph(("helpdesk.views", "ai.facade"), ("helpdesk.services", "ai.brand_new_module")))
    assert not check.kept
    assert [(v.importer, v.imported) for v in check.metadata["violations"]] == [
        ("helpdesk.services", "ai.brand_new_module")
    ]


def test_the_allow_list_lets_the_entry_points_and_their_submodules_through():
    graph = _graph(("helpdesk.views", "ai.facade"), ("helpdesk.services", "ai.contracts.tickets"))
    assert _check(graph).kept


def test_test_code_may_use_another_app_s_models_and_factories():
    graph = _graph(("helpdesk.tests.test_views", "ai.models"), ("helpdesk.tests.factories", "ai.tests.factories"))
    assert _check(graph).kept


def test_an_import_let_through_by_name_is_kept_and_the_rest_still_checked():
    graph = _graph(("helpdesk.demo", "ai.demo"), ("helpdesk.views", "ai.models"))
    check = _check(graph, ignore_imports=["helpdesk.demo -> ai.demo"])
    assert [(v.importer, v.imported) for v in check.metadata["violations"]] == [("helpdesk.views", "ai.models")]


@pytest.mark.parametrize("contract", ONLY_THROUGH, ids=lambda contract: contract["name"])
def test_every_package_is_checked_by_each_allow_list(contract):
    """A new app joins root_packages; an allow-list that does not list it as an importer would let it through."""
    unchecked = set(IMPORT_LINTER["root_packages"]) - set(contract["importers"]) - set(contract["targets"])
    assert not unchecked, f"add {sorted(unchecked)} to the importers of “{contract['name']}”"


def test_ai_is_open_to_other_apps_only_through_facade_and_contracts():
    (contract,) = [contract for contract in ONLY_THROUGH if contract["targets"] == ["ai"]]
    assert contract["entry_points"] == ["facade", "contracts"] and "ignore_imports" not in contract
