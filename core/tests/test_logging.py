"""Every log line names the schema it was written in, with the handler, filter and format from settings.LOGGING.

Requests go through both handlers: the test client (WSGI-style, one thread) and the ASGI handler daphne
uses, where Django logs responses from another thread than the one that served the request.
"""

from __future__ import annotations

import io
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.conf import settings
from django.core import signals
from django.db import close_old_connections, connection
from django.test import Client
from django.utils.module_loading import import_string
from django_tenants.log import TenantContextFilter
from django_tenants.utils import tenant_context

from core.logging import TenantContextFilter as RequestAwareTenantFilter

pytestmark = pytest.mark.django_db


def console_handler() -> logging.Handler:
    return next(handler for handler in logging.getLogger().handlers if handler.name == "console")


def capturing_handler(stream: io.StringIO, filters: list[logging.Filter]) -> logging.Handler:
    """A stream handler with the configured console handler's formatter and the given filters."""
    capture = logging.StreamHandler(stream)
    capture.setFormatter(console_handler().formatter)
    for log_filter in filters:
        capture.addFilter(log_filter)
    return capture


@pytest.fixture
def log_lines():
    """A stream handler dressed like the configured console handler (same filters, same formatter)."""
    stream = io.StringIO()
    capture = capturing_handler(stream, console_handler().filters)
    logger = logging.getLogger("switchboard.test")
    logger.addHandler(capture)
    yield logger, stream
    logger.removeHandler(capture)


def asgi_application():
    # Importing config.asgi runs django.setup() again, which re-applies LOGGING and drops handlers added to
    # django.* loggers before it: import it before attaching the capture.
    return import_string(settings.ASGI_APPLICATION)


def asgi_get(host: str, path: str) -> dict:
    """A request through the ASGI app daphne serves (AsyncClient cannot set the Host header)."""
    communicator = HttpCommunicator(asgi_application(), "GET", path, headers=[(b"host", host.encode())])
    # As the test clients do: closing "old" connections at request start would end the test transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        return async_to_sync(communicator.get_response)(timeout=5)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def request_log(handler: logging.Handler, host: str, path: str, *, asgi: bool) -> None:
    asgi_application()
    request_logger = logging.getLogger("django.request")
    request_logger.addHandler(handler)
    try:
        response = asgi_get(host, path) if asgi else Client(HTTP_HOST=host).get(path)
    finally:
        request_logger.removeHandler(handler)
    assert (response["status"] if asgi else response.status_code) == 404


def test_console_handler_is_configured_with_the_tenant_filter_and_format():
    console = console_handler()

    assert any(isinstance(log_filter, TenantContextFilter) for log_filter in console.filters)
    assert "[%(schema_name)s]" in console.formatter._fmt


def test_log_line_in_a_workspace_carries_its_schema(log_lines, beta):
    logger, stream = log_lines

    logger.warning("ticket assigned")
    with tenant_context(beta):
        logger.warning("customer added")

    alpha_line, beta_line = stream.getvalue().splitlines()
    assert "WARNING [t_alpha] switchboard.test: ticket assigned" in alpha_line
    assert "WARNING [t_beta] switchboard.test: customer added" in beta_line


def test_log_line_in_the_public_schema_says_public(log_lines):
    logger, stream = log_lines
    connection.set_schema_to_public()

    logger.error("signup failed")

    assert "ERROR [public] switchboard.test: signup failed" in stream.getvalue()


def test_log_line_written_during_a_workspace_request_carries_its_schema(log_lines, public_schema):
    """The tenant middleware switches the schema before any view logs; the line follows it."""
    _, stream = log_lines

    request_log(capturing_handler(stream, console_handler().filters), "alpha.localhost", "/no-such-page/", asgi=False)

    assert "WARNING [t_alpha] django.request: Not Found: /no-such-page/" in stream.getvalue()


@pytest.mark.parametrize(("host", "schema"), [("alpha.localhost", "t_alpha"), ("localhost", "public")])
def test_request_aware_filter_names_the_schema_of_an_asgi_request(public_schema, host, schema):
    stream = io.StringIO()

    request_log(capturing_handler(stream, [RequestAwareTenantFilter()]), host, "/no-such-page/", asgi=True)

    assert f"WARNING [{schema}] django.request: Not Found: /no-such-page/" in stream.getvalue()


def test_configured_logging_names_the_workspace_of_an_asgi_request(public_schema):
    stream = io.StringIO()

    request_log(capturing_handler(stream, console_handler().filters), "alpha.localhost", "/no-such-page/", asgi=True)

    assert "WARNING [t_alpha] django.request: Not Found: /no-such-page/" in stream.getvalue()
