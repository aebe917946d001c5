"""/api/v1/ is the API's index: JSON links to its docs and schema for API clients, the docs for a browser."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
API = {"HTTP_ACCEPT": "application/json"}


def test_a_signed_out_api_client_gets_the_links_to_docs_and_schema(client, tenant):
    response = client.get("/api/v1/", **API)

    body = response.json()
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert body["docs"].endswith("/api/v1/docs/") and body["schema"].endswith("/api/v1/schema/")
    assert body["docs"].startswith("http://") and tenant.slug in body["docs"]
    assert "Authorization: Token" in body["authentication"] and "/team/api-token/" in body["authentication"]
    assert body["signed_in"] is False


def test_a_member_reads_the_same_index_and_its_links_answer(client, login):
    login("viewer")

    body = client.get("/api/v1/", **API).json()

    assert body["signed_in"] is True
    assert client.get(body["docs"]).status_code == 200
    assert client.get(body["schema"], **API).status_code == 200


def test_an_api_client_without_an_accept_header_gets_json(client):
    assert client.get("/api/v1/").json()["name"] == "Switchboard API"


def test_a_browser_goes_to_the_docs_signing_in_first_when_signed_out(client, login):
    signed_out = client.get("/api/v1/", **BROWSER)
    login("agent")
    signed_in = client.get("/api/v1/", **BROWSER)

    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/accounts/login/?next=/api/v1/docs/")
    assert signed_in.status_code == 302 and signed_in["Location"] == "/api/v1/docs/"


def test_the_index_only_reads(client, login):
    login("owner")

    response = client.post("/api/v1/", {}, content_type="application/json")

    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


def test_unknown_paths_under_the_api_still_get_the_json_404(client, login):
    login("agent")

    response = client.get("/api/v1/no-such-thing/", **API)

    assert response.status_code == 404 and "/api/v1/docs/" in response.json()["error"]["message"]
