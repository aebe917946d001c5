"""The API keeps its own contract: Schemathesis sends a live server what /api/v1/schema/ documents, for every
workspace endpoint, as an admin with a token, and checks every answer against that same schema.

How it runs
- The operations come from the schema the server publishes, so a later app's endpoints join without a line here.
- gunicorn with the real settings on the test database, as `make run` serves HTTP
  (core.testing.fixtures.live_api_server).
- Deterministic and bounded: a fixed seed, derandomized generation, no example database, a few examples per
  operation plus Schemathesis' coverage cases; no stateful chains.
- Rows: throwaway ones are made first, through the API itself (customers, one whose contact has a ticket,
  articles, SLA policies, a ticket with an attachment). Generated ids 0…2N-1 are mapped onto them, so reads,
  changes and deletes hit real rows as well as unknown ids. A write aimed at a row that existed before the test
  goes to a throwaway row instead, and afterwards every row any workspace table gained is deleted.

Checks, and why
- not_a_server_error: nothing anyone sends gets a 500.
- status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance:
  every answer is documented, body and headers included.
- negative_data_rejection: what the schema forbids is refused.
- positive_data_acceptance, except for what no schema can know: an id in the body that names no row ("No team has
  the id 7 in this workspace.") and a file whose content is refused. Everything else the schema allows must be
  accepted (2xx, or 404/409 for state: an unknown id in the path, a newer version, something still in use).
- Not enabled: use_after_free and ensure_resource_availability need stateful chains (each step depends on the
  last: slow and order-sensitive); ignored_auth and the role checks are config/tests/test_authorization.py's job.

A failure names the check and the answer, and prints a curl command that reproduces it against the live server.

By hand, with a larger budget and the coverage phase (every boundary of every parameter), against `make run`
(a token from the workspace's admin; the throttle raised so 429s do not drown the run):

    API_THROTTLE_RATE=1000000/min make run
    .venv/bin/st run http://127.0.0.1:8000/api/v1/schema/ -H "Host: acme.localhost:8000" \
        -H "Authorization: Token <key>" --phases examples,coverage,fuzzing -n 30 --seed 20261207 \
        --generation-allow-x00 false --checks not_a_server_error,status_code_conformance,content_type_conformance,\
    response_headers_conformance,response_schema_conformance,negative_data_rejection,positive_data_acceptance

There, positive_data_acceptance is Schemathesis' own: expect only its "unknown id in the body" findings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from django.apps import apps
from django.db import models
from django.db.models.deletion import ProtectedError, RestrictedError
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.tests.test_isolation import URL_KWARG_MODELS

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]

SEED = 20_261_207
MAX_EXAMPLES = 6
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# How the API names a row that does not exist (serializers' does_not_exist messages).
UNKNOWN_REFERENCE = re.compile(r"^No .+ has the id \S+")


# --- The live server and its rows -------------------------------------------------------------------------


@pytest.fixture
def contract_schema(request, live_api_server, live_data) -> Iterator[Any]:
    # Schemathesis 4.32 reads `item._nodeid`, which pytest 9 renamed (`_id`); it only names sub-reports by it.
    request.node._nodeid = request.node.nodeid
    admin = live_data.create_user("admin")
    token = live_data.run(lambda: Token.objects.create(user=admin.user).key)
    marks = live_data.run(_high_water_marks)
    # Runs before create_user's own cleanup (last added, first run): everything the run made, the admin too.
    live_data.add_cleanup(lambda: _delete_rows_since(marks))

    origin = f"http://127.0.0.1:{live_api_server.port}"
    host = live_api_server.url(live_data.tenant.slug).split("//", 1)[1].rstrip("/")
    headers = {"Host": host, "Authorization": f"Token {token}"}
    api = _Api(origin, headers)
    raw = api.get("/api/v1/schema/?format=json")

    throwaway = _make_throwaway_rows(api)
    id_models = _path_id_models(raw)
    older = live_data.run(lambda: {model: _pks_up_to(model, marks[model]) for model in set(id_models.values())})
    rows = {model: throwaway.get(model._meta.label_lower, []) for model in set(id_models.values())}

    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # A busy two-core machine makes generation slow; that is not what this test is about.
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large", "large_base_example"],
            "base-url": origin,
            "headers": headers,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # Every text refuses NUL, as the API description says once rather than per field.
                "allow-x00": False,
            },
            # Fuzzing alone fits the budget of `make test`; the coverage phase (every boundary of every parameter,
            # about 2,000 calls) runs by hand: see "By hand" above.
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": False}, "fuzzing": {"enabled": True}},
        }
    )
    schema = schemathesis.openapi.from_dict(raw, config=config)
    schema.hook(_id_mapper(id_models, rows, older))
    _BINARY_FIELDS.update(_binary_fields(raw))
    yield schema


class _Api:
    """Requests to the live server as the test's admin (setup only; Schemathesis makes its own)."""

    def __init__(self, origin: str, headers: dict[str, str]) -> None:
        self.origin, self.session = origin, requests.Session()
        self.session.headers.update(headers)
        self.session.trust_env = False  # never a proxy from the environment for 127.0.0.1

    def get(self, path: str) -> Any:
        return self._json(self.session.get(self.origin + path, timeout=30), 200)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self._json(self.session.post(self.origin + path, timeout=30, **kwargs), 201)

    @staticmethod
    def _json(response: requests.Response, expected: int) -> Any:
        assert response.status_code == expected, f"{response.request.method} {response.url}: {response.text[:500]}"
        return response.json()


def _make_throwaway_rows(api: _Api) -> dict[str, list[int]]:
    """A few rows of each kind the path ids name, made through the API. Returns ids by model label."""
    made: dict[str, list[int]] = {}

    def keep(label: str, row: dict) -> dict:
        made.setdefault(label, []).append(row["id"])
        return row

    busy = keep("customers.customer", api.post("/api/v1/customers/", json={"name": "Contract Busy Ltd"}))
    for index in range(2):
        keep("customers.customer", api.post("/api/v1/customers/", json={"name": f"Contract Idle {index}"}))
    requester = keep(
        "customers.contact", api.post("/api/v1/contacts/", json={"customer_id": busy["id"], "name": "Rita Quester"})
    )
    keep("customers.contact", api.post("/api/v1/contacts/", json={"customer_id": busy["id"], "name": "Ida Le"}))
    for subject in ("Printer on fire", "Invoice twice"):
        ticket = {"subject": subject, "description": "Please help.", "requester_id": requester["id"]}
        keep("helpdesk.ticket", api.post("/api/v1/tickets/", json=ticket))
    message = api.post(
        f"/api/v1/tickets/{made['helpdesk.ticket'][0]}/messages/",
        data={"body": "Log attached.", "kind": "note"},
        files={"attachments": ("printer.log", b"paper jam at tray 2\n", "text/plain")},
    )
    made["helpdesk.attachment"] = [attachment["id"] for attachment in message["attachments"]]
    for title in ("Resetting the printer", "Reading your invoice"):
        keep("helpdesk.article", api.post("/api/v1/kb/articles/", json={"title": title, "body": "Step one."}))
    for index in range(2):
        policy = {"name": f"Contract policy {index}", "first_response_minutes": 60, "resolution_minutes": 600}
        keep("helpdesk.slapolicy", api.post("/api/v1/sla-policies/", json=policy))
    return made


def _path_id_models(raw: dict) -> dict[str, type[models.Model]]:
    """`ticket_id` → Ticket, from the map the isolation test keeps for every URL of the product. A write to an id
    the test cannot place would risk rows other tests rely on, so that fails here, with what to do."""
    names = {
        parameter["name"]
        for item in raw["paths"].values()
        for method, operation in item.items()
        if method.upper() in UNSAFE
        for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]
        if parameter.get("in") == "path"
    }
    unknown = sorted(names - set(URL_KWARG_MODELS))
    if unknown:
        pytest.fail(f"Path parameters {unknown} name no model: add them to URL_KWARG_MODELS in test_isolation.py.")
    return {name: apps.get_model(URL_KWARG_MODELS[name]) for name in names}


def _id_mapper(
    id_models: dict[str, type[models.Model]], rows: dict[type[models.Model], list[int]], older: dict
) -> Callable:
    def map_path_parameters(context, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
        if not path_parameters:
            return path_parameters
        unsafe = context.operation.method.upper() in UNSAFE
        for name, value in path_parameters.items():
            model = id_models.get(name)
            if model is None or not isinstance(value, int) or isinstance(value, bool):
                continue
            ids = rows[model]
            if ids and 0 <= value < 2 * len(ids):
                path_parameters[name] = ids[value % len(ids)]  # a real row, some of the time
            elif unsafe and value in older[model]:
                path_parameters[name] = ids[value % len(ids)] if ids else 2**62  # never an older row
        return path_parameters

    return map_path_parameters


# --- Cleaning up: every row the workspace gained ----------------------------------------------------------


def _in_workspace_schema(model: type[models.Model]) -> bool:
    from django.conf import settings

    return model._meta.app_config.name in settings.TENANT_APPS and isinstance(
        model._meta.pk, models.AutoField | models.BigAutoField | models.IntegerField
    )


def _pks_up_to(model: type[models.Model], mark: int) -> set[int]:
    return set(model._base_manager.filter(pk__lte=mark).values_list("pk", flat=True))


def _high_water_marks() -> dict[type[models.Model], int]:
    return {
        model: model._base_manager.order_by("-pk").values_list("pk", flat=True).first() or 0
        for model in apps.get_models()
        if _in_workspace_schema(model)
    }


def _delete_rows_since(marks: dict[type[models.Model], int]) -> None:
    """Deletes newer rows model by model; a row another still protects waits for the next round."""
    pending = dict(marks)
    for _ in range(len(pending)):
        blocked = {}
        for model, mark in pending.items():
            try:
                model._base_manager.filter(pk__gt=mark).delete()
            except (ProtectedError, RestrictedError):
                blocked[model] = mark
        if not blocked:
            return
        pending = blocked
    raise AssertionError(f"Rows of {sorted(model.__name__ for model in pending)} could not be deleted.")


# --- What no schema can know ------------------------------------------------------------------------------

_BINARY_FIELDS: dict[tuple[str, str], set[str]] = {}


def _binary_fields(raw: dict) -> dict[tuple[str, str], set[str]]:
    """(METHOD, path) → names of the body fields that are files."""
    schemas = raw.get("components", {}).get("schemas", {})
    found = {}
    for path, item in raw["paths"].items():
        for method, operation in item.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                schema = _resolve(media.get("schema", {}), schemas)
                names = {
                    name
                    for name, field in schema.get("properties", {}).items()
                    if "binary" in (field.get("format"), field.get("items", {}).get("format"))
                }
                found.setdefault((method.upper(), path), set()).update(names)
    return found


def _resolve(schema: dict, schemas: dict) -> dict:
    reference = schema.get("$ref", "")
    return schemas.get(reference.rsplit("/", 1)[-1], {}) if reference else schema


def _refused_for_what_no_schema_can_say(case, response) -> bool:
    if response.status_code != 400:
        return False
    try:
        fields = response.json()["error"]["fields"]
    except (ValueError, KeyError, TypeError):
        return False
    files = _BINARY_FIELDS.get((case.method.upper(), case.path), set())

    def unknowable(name: str, messages: Any) -> bool:
        if name in files:
            return True
        return name.endswith("_id") and all(UNKNOWN_REFERENCE.match(str(message)) for message in messages)

    return bool(fields) and all(unknowable(name, messages) for name, messages in fields.items())


def positive_data_acceptance_where_a_schema_can_tell(ctx, response, case):
    if _refused_for_what_no_schema_can_say(case, response):
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance_where_a_schema_can_tell,
]


# --- The test ----------------------------------------------------------------------------------------------

schema = schemathesis.pytest.from_fixture("contract_schema")


@schema.parametrize()
def test_every_workspace_endpoint_keeps_its_documented_contract(case):
    case.call_and_validate(checks=CHECKS)


def test_the_schema_lists_every_api_endpoint():
    """The contract test above generates its calls from the schema: an endpoint missing from it would go untested."""
    from django.urls import URLPattern, URLResolver
    from drf_spectacular.generators import SchemaGenerator

    from config.urls import api

    def routes(patterns, prefix="/api/v1/"):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from routes(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and getattr(entry.callback, "cls", None) is not None:
                view = entry.callback.cls
                if getattr(view, "schema", True) is not None and entry.name not in {"api-schema", "api-docs"}:
                    yield re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", prefix + str(entry.pattern))

    documented = set(SchemaGenerator().get_schema(request=None, public=True)["paths"])
    assert set(routes(api.urlpatterns)) <= documented
    assert len(documented) >= 15
