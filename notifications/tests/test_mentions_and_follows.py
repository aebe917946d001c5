"""@mentions in internal notes notify the teammates named (never the author); followers of a ticket hear of its
changes (never the one who made them); the Follow button."""

from __future__ import annotations

import pytest
from django.urls import reverse

from helpdesk.services import mentions
from helpdesk.services import tickets as ticket_services
from helpdesk.tests.factories import TicketFactory
from notifications import services
from notifications.models import Follow, Notification

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@Dana can you look?", ["dana"]),
        ("cc @dana.scully and @Sam Spade.", ["dana", "sam"]),
        ("mail dana@example.test is not a mention", []),
        ("@Nobody here", []),
        ("@Sam Spade twice @sam", ["sam"]),
    ],
)
def test_mentions_are_parsed_by_name_and_email_local_part(text, expected):
    people = [
        mentions.Person(1, "Dana Scully", "dana.scully@alpha.test"),
        mentions.Person(2, "Sam Spade", "sspade@alpha.test"),
    ]
    names = {1: "dana", 2: "sam"}
    assert [names[person_id] for person_id in mentions.mentioned_ids(text, people)] == expected


def test_a_note_mentioning_a_teammate_notifies_them_but_not_the_author(make_user, django_capture_on_commit_callbacks):
    author = make_user("agent", name="Ann Author")
    dana = make_user("agent", name="Dana Scully")
    viewer = make_user("viewer", name="Vic Viewer")  # cannot work tickets: not mentionable
    ticket = TicketFactory(subject="Printer on fire")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_add(
            ticket=ticket, actor=author, body="@Dana Scully @Ann Author @Vic please check", kind="note"
        )
    assert list(Notification.objects.filter(user__in=[author, dana, viewer]).values_list("user_id", flat=True)) == [
        dana.pk
    ]
    notice = Notification.objects.get(user=dana)
    assert notice.title == f"Ann Author mentioned you on #{ticket.pk}"
    assert notice.link == f"/tickets/{ticket.pk}/"


def test_a_public_reply_mentions_nobody(make_user, django_capture_on_commit_callbacks):
    author, dana = make_user("agent"), make_user("agent", name="Dana Scully")
    ticket = TicketFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_add(ticket=ticket, actor=author, body="Hi @Dana Scully", kind="reply")
    assert not Notification.objects.filter(user=dana, event="ticket.mentioned").exists()


def test_followers_hear_of_a_change_but_not_the_one_who_made_it(make_user, django_capture_on_commit_callbacks):
    follower, actor = make_user("agent"), make_user("agent", name="Max Mover")
    ticket = TicketFactory(subject="Printer on fire")
    for person in (follower, actor):
        services.follow_set(user_id=person.pk, object_type="ticket", object_id=ticket.pk, following=True)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.ticket_update(ticket=ticket, actor=actor, data={"priority": "urgent"})
    notices = Notification.objects.filter(event="ticket.followed_changed", user__in=[follower, actor])
    assert [notice.user_id for notice in notices] == [follower.pk]
    assert "priority" in notices[0].title and "urgent" in notices[0].title


def test_follow_button_toggles(client, login):
    me = login("agent")
    ticket = TicketFactory()
    url = reverse("notifications:follow", args=[ticket.pk])
    assert b'data-testid="follow"' in client.get(url).content
    assert b'data-testid="unfollow"' in client.post(url, {"follow": "1"}).content
    assert Follow.objects.filter(user=me, object_id=ticket.pk).exists()
    client.post(url, {"follow": "0"})
    assert not Follow.objects.filter(user=me, object_id=ticket.pk).exists()


def test_follow_of_a_missing_ticket_is_not_found(client, login):
    login("agent")
    assert client.get(reverse("notifications:follow", args=[987654321])).status_code == 404


def test_the_composer_lists_who_may_be_mentioned(client, login, make_user):
    login("agent")
    make_user("agent", name="Dana Scully", email="dana@alpha.test")
    make_user("viewer", name="Vic Viewer")
    people = client.get(reverse("notifications:mention_people")).json()["people"]
    assert {"name": "Dana Scully", "email": "dana@alpha.test"} in people
    assert all(person["name"] != "Vic Viewer" for person in people)
