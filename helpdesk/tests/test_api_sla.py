"""The SLA policy REST API: every member reads, only people who configure the helpdesk write."""

from __future__ import annotations

import pytest
from django.urls import reverse

from helpdesk.models import SLAPolicy
from helpdesk.tests.factories import BusinessCalendarFactory, SLAPolicyFactory, TeamFactory

pytestmark = pytest.mark.django_db

POLICIES = reverse("helpdesk_api:sla_policy_list")
VALID = {"name": "Urgent", "priority": "urgent", "first_response_minutes": 30, "resolution_minutes": 240}


def policy_url(policy_id: int) -> str:
    return reverse("helpdesk_api:sla_policy_detail", args=[policy_id])


def post(client, path: str, data: dict):
    return client.post(path, data, content_type="application/json")


def patch(client, path: str, data: dict):
    return client.patch(path, data, content_type="application/json")


def test_members_read_policies_in_the_order_they_are_checked(client, login):
    login("viewer")
    late = SLAPolicyFactory(name="Catch-all", position=100)
    early = SLAPolicyFactory(name="Urgent", priority="urgent", position=10, calendar=BusinessCalendarFactory())

    page = client.get(POLICIES).json()
    rows = page["results"]

    assert [row["id"] for row in rows] == [early.pk, late.pk]
    assert rows[0]["calendar"]["name"] == early.calendar.name and rows[1]["calendar"] is None
    assert client.get(policy_url(late.pk)).json()["name"] == "Catch-all"
    assert client.get(policy_url(999_999)).status_code == 404


def test_admin_adds_a_policy_last_and_changes_it(client, login):
    login("admin")
    SLAPolicyFactory(position=10)
    team = TeamFactory()

    created = post(client, POLICIES, VALID | {"breach_reassign_team_id": team.pk, "next_response_minutes": None})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["position"] == 20 and body["breach_reassign_team"]["id"] == team.pk

    changed = patch(client, policy_url(body["id"]), {"resolution_minutes": 480, "active": False})
    assert changed.status_code == 200
    policy = SLAPolicy.objects.get(pk=body["id"])
    assert (policy.resolution_minutes, policy.active, policy.first_response_minutes) == (480, False, 30)

    assert client.delete(policy_url(body["id"])).status_code == 204
    assert not SLAPolicy.objects.filter(pk=body["id"]).exists()


def test_policy_validation_errors_are_400_with_field_messages(client, login):
    login("owner")
    SLAPolicyFactory(name="Urgent")

    invalid = post(
        client,
        POLICIES,
        {"name": "", "priority": "asap", "first_response_minutes": 0, "warn_at_percent": 5, "calendar_id": 999_999},
    )
    duplicate = post(client, POLICIES, VALID)

    assert invalid.status_code == 400
    assert set(invalid.json()["error"]["fields"]) == {
        "name",
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "warn_at_percent",
        "calendar_id",
    }
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "conflict" and "already exists" in duplicate.json()["error"]["message"]
    assert SLAPolicy.objects.count() == 1


@pytest.mark.parametrize("role", ["viewer", "agent", "sales"])
def test_only_people_who_configure_the_helpdesk_write_policies(client, login, role):
    login(role)
    policy = SLAPolicyFactory()

    assert client.get(POLICIES).status_code == 200
    refused = [
        post(client, POLICIES, VALID),
        patch(client, policy_url(policy.pk), {"name": "Mine"}),
        client.delete(policy_url(policy.pk)),
    ]
    assert [response.status_code for response in refused] == [403, 403, 403]
    assert "helpdesk.configure" in refused[0].json()["error"]["message"]
    assert SLAPolicy.objects.get().name == policy.name
