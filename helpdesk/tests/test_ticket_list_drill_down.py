"""The ticket list's drill-down parameters (a dashboard's figure links to the tickets behind it): day ranges in
settings.TIME_ZONE, tier, CSAT, SLA breaches; kept through pages, fragments, saved views and "send and next"; and
the count the list shows for a filter equals what the rollup facts count."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from core.testing.zones import in_november_2026 as in_november
from core.testing.zones import local
from customers.tests.factories import ContactFactory, CustomerFactory
from helpdesk.facade import ticket_rollup_facts
from helpdesk.forms import list_query
from helpdesk.models import SatisfactionSurvey, SavedView, Ticket
from helpdesk.selectors import tickets as selectors
from helpdesk.tests.factories import SLAPolicyFactory, TeamFactory, TicketFactory
from helpdesk.views import tickets as views

pytestmark = pytest.mark.django_db

LIST = reverse("tickets:ticket_list")
TICKETS_API = reverse("helpdesk_api:ticket_list")
HTMX = {"HTTP_HX_REQUEST": "true"}
# East of UTC, so a day's first hours fall on the day before in UTC: a filter by UTC days would get them wrong.
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


def listed(client, params: dict) -> set[int]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return {ticket.pk for ticket in response.context["page"].items}


def total(client, params: dict) -> int:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return response.context["page"].total


def _created(at: datetime) -> Ticket:
    return TicketFactory(created=at)


def _solved(at: datetime) -> Ticket:
    return TicketFactory(status="solved", solved_at=at, created=at - timedelta(days=3))


def _responded(at: datetime) -> Ticket:
    return TicketFactory(first_responded_at=at, created=at - timedelta(days=3))


def _answered(at: datetime) -> Ticket:
    ticket = TicketFactory(status="solved", solved_at=at - timedelta(days=1), created=at - timedelta(days=3))
    SatisfactionSurvey.objects.create(ticket=ticket, rating=4, answered_at=at)
    return ticket


RANGES: dict[str, Callable[[datetime], Ticket]] = {
    "created": _created,
    "solved": _solved,
    "responded": _responded,
    "csat": _answered,
}


# --- Each parameter at its day boundaries -------------------------------------------------------------------


@pytest.mark.parametrize("prefix", list(RANGES))
def test_day_range_takes_its_first_and_last_day_in_the_workspace_time_zone(client, login, tokyo, prefix):
    login("viewer")
    make = RANGES[prefix]
    day_before = make(local(tokyo, date(2026, 10, 31), 23, 59))
    first_moment = make(local(tokyo, date(2026, 11, 1)))  # 15:00 UTC on 31 October
    last_moment = make(local(tokyo, date(2026, 11, 30), 23, 59))
    day_after = make(local(tokyo, date(2026, 12, 1)))  # still 30 November in UTC

    found = listed(client, {f"{prefix}_from": NOVEMBER["from"], f"{prefix}_to": NOVEMBER["to"]})

    assert found == {first_moment.pk, last_moment.pk}
    assert listed(client, {f"{prefix}_from": "2026-12-01"}) == {day_after.pk}
    assert listed(client, {f"{prefix}_to": "2026-10-31"}) == {day_before.pk}


def test_solved_range_leaves_out_reopened_tickets_as_the_rollup_does(client, login, tokyo):
    login("viewer")
    moment = local(tokyo, date(2026, 11, 10), 12)
    solved = TicketFactory(status="solved", solved_at=moment)
    closed = TicketFactory(status="closed", solved_at=moment)
    TicketFactory(status="open", solved_at=moment)  # reopened: its old solved time stays, it is no longer solved

    assert listed(client, {"solved_from": "2026-11-10", "solved_to": "2026-11-10"}) == {solved.pk, closed.pk}


def test_csat_answered_and_rating_take_answered_surveys_only(client, login, tokyo):
    login("viewer")
    moment = local(tokyo, date(2026, 11, 10), 12)
    five = _answered(moment)
    SatisfactionSurvey.objects.filter(ticket=five).update(rating=5)
    two = _answered(moment)
    SatisfactionSurvey.objects.filter(ticket=two).update(rating=2)
    unanswered = TicketFactory(status="solved", solved_at=moment)
    SatisfactionSurvey.objects.create(ticket=unanswered)
    TicketFactory()

    assert listed(client, {"csat": "answered"}) == {five.pk, two.pk}
    assert listed(client, {"rating": "5"}) == {five.pk}
    assert listed(client, {"rating": "2", "csat_from": "2026-11-10", "csat_to": "2026-11-10"}) == {two.pk}
    assert listed(client, {"rating": "2", "csat_from": "2026-11-11"}) == set()


def test_tier_is_the_requesters_company_tier(client, login):
    login("viewer")
    big = TicketFactory(requester=ContactFactory(customer=CustomerFactory(tier="enterprise")))
    TicketFactory(requester=ContactFactory(customer=CustomerFactory(tier="free")))

    assert listed(client, {"tier": "enterprise"}) == {big.pk}


def test_sla_breached_takes_tracked_breaches_beside_breaching_soon(client, login):
    login("viewer")
    policy = SLAPolicyFactory()
    breached_long_ago = TicketFactory(status="solved", sla_policy=policy, sla_breached=True)
    breached_open = TicketFactory(status="open", sla_policy=policy, sla_breached=True)
    TicketFactory(status="open", sla_breached=True)  # no policy: the rollup does not count it either
    TicketFactory(status="open", sla_policy=policy)

    assert listed(client, {"sla": "breached"}) == {breached_long_ago.pk, breached_open.pk}
    assert breached_open.pk in listed(client, {"sla": "breaching"})
    assert breached_long_ago.pk not in listed(client, {"sla": "breaching"})


def test_invalid_drill_down_values_are_ignored_not_an_error(client, login):
    login("viewer")
    tickets = {TicketFactory().pk, TicketFactory().pk}
    junk = {
        "created_from": "2026-13-01",
        "created_to": "30/11/2026",
        "solved_from": "yesterday",
        "responded_to": "2026-02-30",
        "csat_from": "",
        "tier": "gold",
        "csat": "maybe",
        "rating": "9",
        "sla": "late",
    }

    response = client.get(LIST, junk)

    assert response.status_code == 200
    assert {ticket.pk for ticket in response.context["page"].items} == tickets
    assert response.context["params"] == {}
    assert 'data-testid="ticket-day-chip"' not in response.content.decode()


# --- Shown, and kept through pages, fragments, saved views and send-and-next ---------------------------------


def test_date_filters_show_as_labelled_inputs_and_removable_chips(client, login):
    login("viewer")

    response = client.get(LIST, {"created_from": "2026-11-01", "created_to": "2026-11-30", "status": "done"})

    html = response.content.decode()
    assert re.search(r'<details[^>]*data-testid="ticket-day-ranges" open>', html)
    assert '<label class="visually-hidden" for="ticket-created_from">Created from</label>' in html
    assert re.search(r'<input type="date" id="ticket-created_from" name="created_from" value="2026-11-01"', html)
    assert re.search(r'id="ticket-solved_to" name="solved_to" value=""', html)
    assert "Created 1 Nov 2026 – 30 Nov 2026" in html
    chip = re.search(r'<a [^>]*href="([^"]+)"[^>]*data-testid="ticket-day-chip"', html)
    assert chip.group(1) == f"{LIST}?status=done"  # the range goes, the other filters stay


def test_dimension_chips_and_hidden_inputs_keep_tier_csat_and_rating(client, login):
    login("viewer")

    html = client.get(LIST, {"tier": "enterprise", "rating": "5", "sla": "breached"}).content.decode()

    assert '<input type="hidden" name="tier" value="enterprise">' in html
    assert '<input type="hidden" name="rating" value="5">' in html
    assert "Tier: Enterprise" in html and "Rated 5 of 5" in html and "SLA breached" in html


def test_date_range_survives_the_next_page(client, login, tokyo, monkeypatch):
    login("viewer")
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    inside = {_created(local(tokyo, date(2026, 11, day), 9)).pk for day in (2, 3, 4)}
    _created(local(tokyo, date(2026, 12, 2), 9))
    params = {"created_from": "2026-11-01", "created_to": "2026-11-30"}

    first = client.get(LIST, params)
    cursor = first.context["page"].next_cursor
    second = client.get(LIST, {**params, "cursor": cursor}, **HTMX, HTTP_HX_TARGET="ticket-table")

    assert first.context["page"].total == 3
    next_link = re.search(r'rel="next" data-testid="page-next" href="([^"]+)"', first.content.decode()).group(1)
    assert "created_from=2026-11-01" in next_link and "created_to=2026-11-30" in next_link
    shown = {t.pk for t in first.context["page"].items} | {t.pk for t in second.context["page"].items}
    assert shown == inside


def test_htmx_fragment_applies_the_drill_down_and_turns_off_live_inserts(client, login, tokyo):
    login("viewer")
    inside = _solved(local(tokyo, date(2026, 11, 5), 9))
    _solved(local(tokyo, date(2026, 12, 5), 9))

    response = client.get(
        LIST, {"solved_from": "2026-11-01", "solved_to": "2026-11-30"}, **HTMX, HTTP_HX_TARGET="ticket-table"
    )

    html = response.content.decode()
    assert [ticket.pk for ticket in response.context["page"].items] == [inside.pk]
    assert "<html" not in html and "Solved 1 Nov 2026 – 30 Nov 2026" in html
    assert 'data-live-inserts="false"' in html  # the browser cannot tell whether a new ticket belongs here


def test_saved_view_keeps_the_drill_down_parameters(client, login):
    login("agent")
    query = "created_from=2026-11-01&created_to=2026-11-30&tier=enterprise&csat=answered&rating=5&sla=breached"

    client.post(reverse("tickets:saved_view_create"), {"name": "November VIPs", "filters": query}, **HTMX)

    view = SavedView.objects.get()
    assert view.filters == {
        "created_from": "2026-11-01",
        "created_to": "2026-11-30",
        "tier": "enterprise",
        "csat": "answered",
        "rating": "5",
        "sla": "breached",
    }
    rail = client.get(LIST, view.filters).context["rail"]
    assert [entry.name for entry in rail if entry.active] == ["November VIPs"]


def test_send_and_next_stays_within_the_drill_down(login, tokyo):
    me = login("agent")
    current = TicketFactory(status="open", created=local(tokyo, date(2026, 11, 3)))
    in_range = TicketFactory(status="open", created=local(tokyo, date(2026, 11, 2)))
    TicketFactory(status="open", created=local(tokyo, date(2026, 10, 2)))  # next by date, outside the range
    filters = list_query({"created_from": "2026-11-01", "created_to": "2026-11-30"}, user=me).filters

    assert selectors.ticket_next(after=current, user=me, filters=filters) == in_range
    assert selectors.ticket_next(after=in_range, user=me, filters=filters) == current


def test_api_list_takes_the_same_parameters_and_refuses_bad_ones(client, login, tokyo):
    login("viewer")
    inside = _created(local(tokyo, date(2026, 11, 1)))
    _created(local(tokyo, date(2026, 12, 1)))

    found = client.get(TICKETS_API, {"created_from": "2026-11-01", "created_to": "2026-11-30"})
    bad = client.get(TICKETS_API, {"created_from": "November"})

    assert [row["id"] for row in found.json()["results"]] == [inside.pk]
    assert bad.status_code == 400 and "created_from" in bad.content.decode()  # the API names bad parameters
    schema = client.get("/api/v1/schema/").content.decode()
    for name in ("created_from", "solved_to", "responded_from", "csat_to", "tier", "rating"):
        assert f"name: {name}" in schema


# --- The list counts what the dashboard counts ----------------------------------------------------------------


def _varied_tickets(zone: ZoneInfo) -> None:
    """Tickets across the edges of November: every status, tier, team, SLA, response and CSAT state, with fixed
    randomness."""
    chance = random.Random(20261130)
    policy = SLAPolicyFactory()
    teams = [TeamFactory(), TeamFactory()]
    contacts = [ContactFactory(customer=CustomerFactory(tier=tier)) for tier in ("free", "starter", "enterprise")]
    start = local(zone, date(2026, 10, 27))
    for _ in range(60):
        created = start + timedelta(minutes=chance.randrange(0, 40 * 24 * 60))
        status = chance.choice(["new", "open", "pending", "solved", "closed", "open"])
        later = created + timedelta(minutes=chance.randrange(1, 6 * 24 * 60))
        solved_at = later if status in ("solved", "closed") or chance.random() < 0.15 else None  # some reopened
        ticket = TicketFactory(
            created=created,
            status=status,
            priority=chance.choice(["low", "normal", "high", "urgent"]),
            team=chance.choice([None, *teams]),
            requester=chance.choice(contacts),
            sla_policy=policy if chance.random() < 0.7 else None,
            sla_breached=chance.random() < 0.3,
            first_responded_at=created + timedelta(minutes=chance.randrange(1, 3 * 24 * 60))
            if chance.random() < 0.7
            else None,
            solved_at=solved_at,
        )
        if solved_at is not None and chance.random() < 0.6:
            answered = chance.random() < 0.8
            SatisfactionSurvey.objects.create(
                ticket=ticket,
                rating=chance.randint(1, 5) if answered else None,
                answered_at=solved_at + timedelta(hours=chance.randrange(1, 72)) if answered else None,
            )


def test_list_counts_equal_the_rollup_facts_counts(client, login, tokyo):
    login("viewer")
    _varied_tickets(tokyo)
    facts = list(ticket_rollup_facts())
    team = facts[0].team_id or next(fact.team_id for fact in facts if fact.team_id)
    created = {f"created_{end}": day for end, day in NOVEMBER.items()}
    solved = {f"solved_{end}": day for end, day in NOVEMBER.items()}

    def counted(keep) -> int:
        return sum(1 for fact in facts if keep(fact))

    def is_solved(fact) -> bool:  # insights.rollups._ticket's "solved"
        return fact.status in ("solved", "closed") and fact.solved_at is not None and in_november(fact.solved_at)

    def is_answered(fact) -> bool:  # its "csat"
        return fact.csat_rating is not None and fact.csat_answered_at is not None

    cases = [
        (created, lambda f: in_november(f.created)),
        (solved, is_solved),
        ({f"responded_{e}": d for e, d in NOVEMBER.items()}, lambda f: in_november(f.first_responded_at)),
        (
            {f"csat_{e}": d for e, d in NOVEMBER.items()},
            lambda f: is_answered(f) and in_november(f.csat_answered_at),
        ),
        (
            {f"csat_{e}": d for e, d in NOVEMBER.items()} | {"rating": "5"},
            lambda f: is_answered(f) and f.csat_rating == 5 and in_november(f.csat_answered_at),
        ),
        (created | {"sla": "breached"}, lambda f: in_november(f.created) and f.sla_tracked and f.sla_breached),
        (created | {"tier": "enterprise"}, lambda f: in_november(f.created) and f.customer_tier == "enterprise"),
        (solved | {"team": str(team)}, lambda f: is_solved(f) and f.team_id == team),
        (solved | {"priority": "urgent"}, lambda f: is_solved(f) and f.priority == "urgent"),
        (solved | {"csat": "answered"}, lambda f: is_solved(f) and is_answered(f)),
    ]
    for params, keep in cases:
        assert total(client, params) == counted(keep), params
    assert counted(is_solved) > 0 and counted(lambda f: is_answered(f) and in_november(f.csat_answered_at)) > 0
