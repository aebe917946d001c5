"""Conventions every /api/v1/ endpoint shares: per-workspace throttling, one error body, docs for members only."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


@pytest.fixture
def strict_throttle(api_rate_limit):
    api_rate_limit("3/min")


def test_too_many_calls_get_429_with_retry_after_and_a_readable_message(client, login, strict_throttle):
    login("agent")
    statuses = [client.get(ME).status_code for _ in range(3)]
    response = client.get(ME)

    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert error["message"].startswith("Too many requests. Try again in")


def test_throttling_counts_per_workspace(client, login, other_tenant, strict_throttle):
    """Another workspace's user keeps its allowance even when its user id is the same."""
    login("agent")
    for _ in range(3):
        client.get(ME)
    assert client.get(ME).status_code == 429

    with tenant_context(other_tenant):
        twin = UserFactory(role="agent")
        token = Token.objects.create(user=twin)
    beta = Client(HTTP_HOST="beta.localhost", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert beta.get(ME).status_code == 200


def test_a_token_from_one_workspace_is_unknown_in_another(make_user, other_tenant):
    token = Token.objects.create(user=make_user("agent"))
    alpha = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {token.key}")
    beta = Client(HTTP_HOST="beta.localhost", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert alpha.get(ME).status_code == 200
    response = beta.get(ME)
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "authentication_failed", "message": "Invalid token."}


def test_errors_share_one_body_shape(client, login):
    login("agent")
    not_found = client.get("/api/v1/customers/999999999/")
    invalid = client.post("/api/v1/customers/", {"tier": "gold"}, content_type="application/json")

    assert not_found.status_code == 404
    assert set(not_found.json()["error"]) == {"code", "message"}
    assert invalid.status_code == 400
    body = invalid.json()["error"]
    assert body["code"] == "invalid" and body["message"] and "name" in body["fields"]


def test_schema_and_docs_are_for_signed_in_members(client, login):
    assert client.get("/api/v1/schema/").status_code == 401
    login("viewer")
    schema = client.get("/api/v1/schema/")
    docs = client.get("/api/v1/docs/")

    assert schema.status_code == 200 and b"/api/v1/customers/" in schema.content
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


# --- The schema is the contract (config/tests/test_api_contract.py runs it against a live server) -------------

LISTS = ["/api/v1/customers/", "/api/v1/contacts/", "/api/v1/tickets/", "/api/v1/sla-policies/", "/api/v1/kb/articles/"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page_size", ["abc", "0", "201", "", "1.5", "١٢"])
def test_a_page_size_that_is_not_a_whole_number_in_range_is_refused(client, login, path, page_size):
    login("admin")

    response = client.get(path, {"page_size": page_size})

    assert response.status_code == 400, response.content
    message = response.json()["error"]["fields"]["page_size"][0]
    assert message.startswith("Use a whole number from 1 to")


@pytest.mark.parametrize("path", LISTS)
def test_list_query_parameters_are_sent_once(client, login, path):
    login("admin")

    response = client.get(f"{path}?page_size=5&page_size=6")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["page_size"] == ["Send this parameter once."]


def test_filters_the_schema_does_not_promise_are_refused_with_a_sentence(client, login):
    login("admin")

    response = client.get("/api/v1/tickets/", {"category": "0", "customer": "+5", "assignee": "somebody", "sort": ""})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "category": ["Ensure this value is greater than or equal to 1."],
        "customer": ["Use a whole number."],
        "assignee": ["Use a teammate's id, “me” or “none”."],
        "sort": ["Give a value, or leave the parameter out."],
    }


def test_an_unknown_api_path_answers_the_json_404(client, login):
    login("agent")

    unknown_id = client.get("/api/v1/customers/null,null/")
    no_slash = client.get("/api/v1/customers")

    assert unknown_id.status_code == 404 and unknown_id["Content-Type"] == "application/json"
    assert unknown_id.json()["error"]["code"] == "not_found"
    assert no_slash.json()["error"]["message"].endswith("API paths end with a slash: /api/v1/customers/")


def test_a_form_body_is_refused_where_only_json_is_documented(client, login):
    login("admin")

    response = client.post("/api/v1/customers/", {"name": "Acme"})  # multipart, as a browser form sends it

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def _schema(client) -> dict:
    return client.get("/api/v1/schema/?format=json").json()


def test_every_operation_documents_the_shared_error_answers(client, login):
    login("viewer")
    schema = _schema(client)

    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "patch", "delete"}
    ]
    assert len(operations) >= 30
    for path, method, operation in operations:
        documented = set(operation["responses"])
        assert {"401", "403", "429"} <= documented, (method, path)
        assert "{" not in path or "404" in documented, (method, path)
        assert method == "get" or {"409"} <= documented, (method, path)
        assert "requestBody" not in operation or {"400", "413", "415"} <= documented, (method, path)
        error = operation["responses"]["429"]
        assert error["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        assert "Retry-After" in error["headers"]
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]


def test_the_attachment_download_documents_any_content_type(client, login):
    login("viewer")

    download = _schema(client)["paths"]["/api/v1/attachments/{attachment_id}/"]["get"]

    assert set(download["responses"]["200"]["content"]) == {"*/*"}
    assert download["responses"]["404"]["content"]["application/json"]


def test_the_sla_policy_list_is_documented_and_answered_as_a_page(client, login):
    from helpdesk.tests.factories import SLAPolicyFactory

    login("viewer")
    SLAPolicyFactory(name="Urgent", position=10)
    schema = _schema(client)["paths"]["/api/v1/sla-policies/"]["get"]

    body = client.get("/api/v1/sla-policies/", {"page_size": 1}).json()

    assert schema["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PaginatedSLAPolicyList"
    )
    assert set(body) == {"next", "previous", "results"}
    assert [row["name"] for row in body["results"]] == ["Urgent"]
