"""Notes and tasks: services and their validation, the reminder email, the page fragments and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.models import Note, Task
from customers.tasks import task_reminders_send_task

from .factories import ContactFactory, CustomerFactory, NoteFactory, TaskFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "notes-tasks"}


# --- Services -----------------------------------------------------------------------------------


def test_a_note_on_a_contact_belongs_to_its_company_too(make_user):
    contact = ContactFactory()
    author = make_user("agent")

    note = services.note_create(actor=author, contact=contact, body="  Wants a **demo**  ")

    assert (note.customer, note.contact, note.body, note.author) == (
        contact.customer,
        contact,
        "Wants a **demo**",
        author,
    )


def test_a_note_needs_words_and_a_contact_from_the_same_company(make_user):
    actor = make_user("agent")
    with pytest.raises(ValidationError) as empty:
        services.note_create(actor=actor, customer=CustomerFactory(), body="   ")
    with pytest.raises(ValidationError) as elsewhere:
        services.note_create(actor=actor, customer=CustomerFactory(), contact=ContactFactory(), body="Hi")

    assert empty.value.message_dict == {"body": ["The note cannot be empty."]}
    assert "does not work at" in elsewhere.value.message_dict["contact"][0]


def test_note_update_changes_body_and_pin_and_delete_removes_it(make_user):
    note = NoteFactory()

    services.note_update(note=note, actor=None, data={"body": "Renewal signed", "pinned": True})
    note.refresh_from_db()
    assert (note.body, note.pinned) == ("Renewal signed", True)

    services.note_delete(note=note, actor=None)
    assert not Note.objects.filter(pk=note.pk).exists()


def test_a_task_is_owned_by_its_creator_unless_given_and_its_reminder_comes_before_it_is_due(make_user):
    actor = make_user("agent")
    due = timezone.now() + timedelta(days=2)

    task = services.task_create(actor=actor, customer=CustomerFactory(), title="Call back", due_at=due)
    with pytest.raises(ValidationError) as late:
        services.task_create(
            actor=actor, customer=CustomerFactory(), title="Call", due_at=due, reminder_at=due + timedelta(hours=1)
        )

    assert task.owner == actor and task.created_by == actor
    assert late.value.message_dict == {"reminder_at": ["The reminder must come before the task is due."]}


def test_complete_and_reopen_set_and_clear_done_at(make_user):
    task = TaskFactory()

    services.task_complete(task=task, actor=None)
    task.refresh_from_db()
    assert task.done and task.done_at is not None

    services.task_reopen(task=task, actor=None)
    task.refresh_from_db()
    assert not task.done and task.done_at is None


# --- Reminders ----------------------------------------------------------------------------------


def test_the_reminder_is_emailed_to_the_owner_once_after_its_time(make_user, django_capture_on_commit_callbacks):
    owner = make_user("agent", email="dana@example.test")
    now = timezone.now()
    task = TaskFactory(title="Send the quote", owner=owner, reminder_at=now - timedelta(minutes=1))
    TaskFactory(owner=owner, reminder_at=now + timedelta(hours=1))  # not yet
    TaskFactory(owner=owner, reminder_at=now - timedelta(hours=1), done=True)  # done: no reminder

    with django_capture_on_commit_callbacks(execute=True):
        first = task_reminders_send_task()
    with django_capture_on_commit_callbacks(execute=True):
        second = task_reminders_send_task()

    assert (first, second) == (1, 0)
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["dana@example.test"]
    assert "Send the quote" in email.subject
    assert f"/customers/{task.customer_id}/" in email.body


def test_moving_the_reminder_sends_a_new_one(make_user, django_capture_on_commit_callbacks):
    owner = make_user("agent")
    task = TaskFactory(owner=owner, reminder_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        services.task_reminders_send()

    services.task_update(task=task, actor=owner, data={"reminder_at": timezone.now() - timedelta(minutes=1)})
    with django_capture_on_commit_callbacks(execute=True):
        services.task_reminders_send()

    assert len(mail.outbox) == 2


def test_the_beat_job_is_routed_and_scheduled():
    from django.conf import settings

    assert settings.CELERY_TASK_ROUTES["customers.tasks.task_reminders_send_task"] == {"queue": "default"}
    assert settings.CELERY_TASK_ROUTES["customers.tasks.task_reminders_fanout_task"] == {"queue": "default"}
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "customers.tasks.task_reminders_fanout_task" in scheduled


# --- Pages and fragments ------------------------------------------------------------------------


def test_the_company_page_shows_notes_tasks_and_the_timeline(client, login):
    login("agent")
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer, name="Jane Roe")
    NoteFactory(customer=customer, body="Loves **Markdown**", pinned=True)
    TaskFactory(customer=customer, contact=contact, title="Send the contract")

    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()

    assert "<strong>Markdown</strong>" in html and "Pinned" in html
    assert "Send the contract" in html
    assert 'data-testid="timeline-entry"' in html and 'data-kind="note"' in html
    assert reverse("customers:contact_detail", args=[contact.pk]) in html
    assert html.count("<h1") == 1


def test_the_contact_page_shows_fields_company_tickets_and_an_empty_timeline(client, login):
    login("viewer")
    contact = ContactFactory(name="Jane Roe", title="CTO")

    response = client.get(reverse("customers:contact_detail", args=[contact.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Jane Roe" in html and "CTO" in html and contact.customer.name in html
    assert 'data-testid="timeline-empty"' in html and "has not asked for help yet" in html
    assert 'data-testid="note-form"' not in html  # viewers read only


def test_adding_a_note_over_htmx_swaps_the_panel_and_reloads_the_timeline(client, login):
    login("agent")
    contact = ContactFactory()

    response = client.post(
        reverse("customers:contact_note_create", args=[contact.pk]), {"body": "Met at the fair"}, **HTMX
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "timeline-changed"
    assert 'id="notes-tasks"' in response.content.decode() and "Met at the fair" in response.content.decode()
    assert Note.objects.get().contact == contact


def test_an_empty_note_comes_back_with_its_message(client, login):
    login("agent")
    customer = CustomerFactory()

    response = client.post(reverse("customers:customer_note_create", args=[customer.pk]), {"body": " "}, **HTMX)

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Note.objects.exists()


def test_task_form_checks_reminder_against_due_and_complete_reopen_round_trip(client, login):
    login("agent")
    customer = CustomerFactory()
    create = reverse("customers:customer_task_create", args=[customer.pk])

    refused = client.post(
        create, {"title": "Call", "due_at": "2026-05-01T10:00", "reminder_at": "2026-05-02T10:00"}, **HTMX
    )
    client.post(create, {"title": "Call", "due_at": "2026-05-01T10:00", "reminder_at": "2026-05-01T09:00"}, **HTMX)
    task = Task.objects.get()
    done = client.post(reverse("customers:task_complete", args=[task.pk]), {"on": "customer"}, **HTMX)
    task.refresh_from_db()

    assert "The reminder must come before the task is due." in refused.content.decode()
    assert task.done and f'aria-label="Reopen {task.title}"' in done.content.decode()


def test_editing_a_note_in_the_modal_closes_it_and_refreshes_the_panel_out_of_band(client, login):
    login("agent")
    note = NoteFactory()
    edit = reverse("customers:note_update", args=[note.pk])

    form = client.get(edit, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal-body")
    saved = client.post(edit, {"body": "Changed", "on": "customer"}, HTTP_HX_REQUEST="true")

    assert 'name="body"' in form.content.decode()
    assert saved["HX-Trigger"] == "modal:close, timeline-changed"
    assert 'hx-swap-oob="true"' in saved.content.decode() and "Changed" in saved.content.decode()


def test_load_older_returns_the_next_entries_and_a_new_button(client, login):
    login("agent")
    customer = CustomerFactory()
    NoteFactory.create_batch(30, customer=customer)
    page = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    more = page.split('data-testid="timeline-more"')[0].rsplit('hx-get="', 1)[1].split('"')[0].replace("&amp;", "&")

    response = client.get(more, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="timeline-more")

    html = response.content.decode()
    assert page.count('data-testid="timeline-entry"') == 25
    assert html.count('data-testid="timeline-entry"') == 5
    assert 'id="timeline-more"' not in html


def test_the_timeline_filters_answer_the_list_fragment(client, login):
    login("agent")
    customer = CustomerFactory()
    NoteFactory(customer=customer)
    TaskFactory(customer=customer)

    response = client.get(
        reverse("customers:customer_timeline", args=[customer.pk]),
        {"kinds": ["task"]},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="timeline-list",
    )

    html = response.content.decode()
    assert html.count('data-testid="timeline-entry"') == 1 and 'data-kind="task"' in html


def test_viewers_cannot_write_notes_or_tasks(client, login):
    login("viewer")
    customer = CustomerFactory()
    note = NoteFactory(customer=customer)

    assert client.post(reverse("customers:customer_note_create", args=[customer.pk]), {"body": "x"}).status_code == 403
    assert client.post(reverse("customers:note_delete", args=[note.pk])).status_code == 403


# --- API ----------------------------------------------------------------------------------------


def test_api_timeline_pages_with_a_cursor_and_filters(client, login):
    login("agent")
    customer = CustomerFactory()
    NoteFactory.create_batch(3, customer=customer)
    TaskFactory(customer=customer)
    url = f"/api/v1/customers/{customer.pk}/timeline/"

    first = client.get(url, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    notes = client.get(url, {"kinds": "note"}).json()
    bad = client.get(url, {"kinds": "note,nope", "since": "2026-02-30"})
    backwards = client.get(url, {"since": "2026-05-02", "until": "2026-05-01"})

    assert len(first["results"]) == 2 and first["previous"] is None
    assert len(second["results"]) == 2 and second["next"] is None
    assert {row["kind"] for row in notes["results"]} == {"note"}
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"kinds", "since"}
    assert backwards.status_code == 200 and backwards.json()["results"] == []


def test_api_contact_timeline_404s_for_an_unknown_contact(client, login):
    login("agent")

    assert client.get("/api/v1/contacts/999999/timeline/").status_code == 404


def test_api_notes_and_tasks_round_trip(client, login):
    user = login("agent")
    contact = ContactFactory()

    note = client.post(
        f"/api/v1/contacts/{contact.pk}/notes/", {"body": "Hello", "pinned": True}, content_type="application/json"
    )
    empty = client.post(f"/api/v1/contacts/{contact.pk}/notes/", {"body": ""}, content_type="application/json")
    task = client.post(
        f"/api/v1/customers/{contact.customer_id}/tasks/",
        {"title": "Call", "due_at": "2026-05-01T10:00:00Z", "reminder_at": "2026-05-02T10:00:00Z"},
        content_type="application/json",
    )
    task = client.post(
        f"/api/v1/customers/{contact.customer_id}/tasks/", {"title": "Call"}, content_type="application/json"
    )
    done = client.patch(f"/api/v1/tasks/{task.json()['id']}/", {"done": True}, content_type="application/json")
    listed = client.get(f"/api/v1/customers/{contact.customer_id}/notes/").json()
    deleted = client.delete(f"/api/v1/notes/{note.json()['id']}/")

    assert note.status_code == 201 and note.json()["pinned"] is True and note.json()["author"]["id"] == user.pk
    assert empty.status_code == 400
    assert task.status_code == 201 and task.json()["owner"]["id"] == user.pk
    assert done.json()["done"] is True and done.json()["done_at"]
    assert [row["body"] for row in listed] == ["Hello"]
    assert deleted.status_code == 204


def test_api_refuses_a_reminder_after_the_due_time(client, login):
    login("agent")
    customer = CustomerFactory()

    response = client.post(
        f"/api/v1/customers/{customer.pk}/tasks/",
        {"title": "Call", "due_at": "2026-05-01T10:00:00Z", "reminder_at": "2026-05-02T10:00:00Z"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["reminder_at"] == ["The reminder must come before the task is due."]


def test_saving_the_edit_form_unchanged_does_not_re_arm_a_sent_reminder(make_user, django_capture_on_commit_callbacks):
    owner = make_user("agent")
    reminder = timezone.now().replace(microsecond=0) - timedelta(minutes=5, seconds=30)
    task = TaskFactory(owner=owner, reminder_at=reminder)
    with django_capture_on_commit_callbacks(execute=True):
        services.task_reminders_send()

    # What a datetime-local input sends back: the same time, to the minute.
    services.task_update(task=task, actor=owner, data={"title": "Renamed", "reminder_at": reminder.replace(second=0)})
    with django_capture_on_commit_callbacks(execute=True):
        services.task_reminders_send()

    assert len(mail.outbox) == 1
