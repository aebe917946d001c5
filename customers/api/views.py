"""REST endpoints for customers and contacts under /api/v1/: parse, call a selector or service, serialize."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from accounts.permissions import HasCapability
from core.api.pagination import KeysetCursorPagination
from core.api.params import (
    cursor,
    cursor_parameter,
    form_parameters,
    page_size,
    page_size_parameter,
    validated_query,
)
from core.keyset import KeysetOrder

from .. import selectors, services
from ..forms import ContactFilterForm, CustomerFilterForm, day_bounds
from ..models import Contact, Customer, Note, Task
from ..timeline import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, timeline_kinds
from .serializers import (
    ContactCreateSerializer,
    ContactOutputSerializer,
    ContactUpdateSerializer,
    CustomerHealthOutputSerializer,
    CustomerInputSerializer,
    CustomerOutputSerializer,
    NoteInputSerializer,
    NoteOutputSerializer,
    NoteUpdateSerializer,
    TaskInputSerializer,
    TaskOutputSerializer,
    TaskUpdateSerializer,
    TimelineEntrySerializer,
    TimelinePageSerializer,
)

NOTE_LIST_LIMIT = 200


class _CustomerApi(GenericAPIView):
    permission_classes = [HasCapability]
    read_capability = "customers.view"
    write_capability = "customers.edit"
    delete_capability = "customers.delete"


def _customer(customer_id: int) -> Customer:
    try:
        return selectors.customer_get(customer_id=customer_id)
    except Customer.DoesNotExist:
        raise NotFound(f"No customer has the id {customer_id} in this workspace.") from None


def _contact(contact_id: int) -> Contact:
    try:
        return selectors.contact_get(contact_id=contact_id)
    except Contact.DoesNotExist:
        raise NotFound(f"No contact has the id {contact_id} in this workspace.") from None


# --- Customers ----------------------------------------------------------------------------------


class CustomerListApi(_CustomerApi):
    serializer_class = CustomerOutputSerializer
    pagination_class = KeysetCursorPagination

    def keyset_order(self, request: Request) -> KeysetOrder:
        return selectors.customer_order(request.query_params.get("sort"))

    @extend_schema(
        summary="List customers",
        # The filters as the list page reads them; cursor and page_size come with the pagination.
        parameters=form_parameters(CustomerFilterForm, exclude=["cursor"]),
        responses=CustomerOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = validated_query(CustomerFilterForm, request.query_params).query(user=request.user)
        page = self.paginate_queryset(selectors.customer_queryset(filters=query.filters))
        return self.get_paginated_response(CustomerOutputSerializer(page, many=True).data)

    @extend_schema(summary="Add a customer", request=CustomerInputSerializer, responses={201: CustomerOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = CustomerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_create(actor=request.user, **serializer.validated_data)
        return Response(CustomerOutputSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerDetailApi(_CustomerApi):
    serializer_class = CustomerOutputSerializer

    @extend_schema(summary="Get a customer", responses=CustomerOutputSerializer)
    def get(self, request: Request, customer_id: int) -> Response:
        return Response(CustomerOutputSerializer(_customer(customer_id)).data)

    @extend_schema(
        summary="Change a customer",
        description="Only the fields sent are changed.",
        request=CustomerInputSerializer(partial=True),
        responses=CustomerOutputSerializer,
    )
    def patch(self, request: Request, customer_id: int) -> Response:
        customer = _customer(customer_id)
        serializer = CustomerInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.customer_update(customer=customer, actor=request.user, data=serializer.validated_data)
        return Response(CustomerOutputSerializer(_customer(customer_id)).data)

    @extend_schema(
        summary="Delete a customer and its contacts",
        description="Refused (409) while the customer still has tickets: reassign or delete them first.",
        responses={204: None},
    )
    def delete(self, request: Request, customer_id: int) -> Response:
        services.customer_delete(customer=_customer(customer_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Contacts -----------------------------------------------------------------------------------


class ContactListApi(_CustomerApi):
    serializer_class = ContactOutputSerializer
    pagination_class = KeysetCursorPagination

    def keyset_order(self, request: Request) -> KeysetOrder:
        return selectors.contact_order(request.query_params.get("sort"))

    @extend_schema(
        summary="List contacts",
        parameters=form_parameters(ContactFilterForm, exclude=["cursor"]),
        responses=ContactOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        form = validated_query(ContactFilterForm, request.query_params)
        page = self.paginate_queryset(selectors.contact_queryset(filters=form.query().filters))
        return self.get_paginated_response(ContactOutputSerializer(page, many=True).data)

    @extend_schema(summary="Add a contact", request=ContactCreateSerializer, responses={201: ContactOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = ContactCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_create(actor=request.user, **serializer.validated_data)
        return Response(ContactOutputSerializer(contact).data, status=status.HTTP_201_CREATED)


class ContactDetailApi(_CustomerApi):
    serializer_class = ContactOutputSerializer
    # Removing a person from a company's contacts is everyday editing, unlike deleting the company.
    delete_capability = "customers.edit"

    @extend_schema(summary="Get a contact", responses=ContactOutputSerializer)
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(ContactOutputSerializer(_contact(contact_id)).data)

    @extend_schema(
        summary="Change a contact",
        description="Only the fields sent are changed.",
        request=ContactUpdateSerializer(partial=True),
        responses=ContactOutputSerializer,
    )
    def patch(self, request: Request, contact_id: int) -> Response:
        contact = _contact(contact_id)
        context = {"customer": contact.customer, "contact_id": contact.pk}
        serializer = ContactUpdateSerializer(data=request.data, partial=True, context=context)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_update(contact=contact, actor=request.user, data=serializer.validated_data)
        return Response(ContactOutputSerializer(contact).data)

    @extend_schema(
        summary="Remove a contact",
        description="Refused (409) while the contact is still the requester of tickets.",
        responses={204: None},
    )
    def delete(self, request: Request, contact_id: int) -> Response:
        services.contact_delete(contact=_contact(contact_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Timeline -----------------------------------------------------------------------------------

TIMELINE_KIND_PATTERN = "|".join(sorted(kind.name for kind in timeline_kinds()))


class TimelineQueryForm(forms.Form):
    """The timeline's filters as the API takes them: one `kinds` parameter, comma-separated."""

    kinds = forms.CharField(
        required=False,
        max_length=500,
        validators=[
            RegexValidator(
                rf"^(?:{TIMELINE_KIND_PATTERN})(?:,(?:{TIMELINE_KIND_PATTERN}))*$",
                "Send activity types separated by commas, e.g. ticket_opened,note.",
            )
        ],
        help_text="Activity types, comma-separated (every type when left out): "
        + ", ".join(kind.name for kind in timeline_kinds())
        + ".",
    )
    since = forms.DateField(required=False, help_text="From this day (YYYY-MM-DD), in the workspace's time zone.")
    until = forms.DateField(required=False, help_text="To this day included (YYYY-MM-DD).")


def _timeline_response(request: Request, selector, **subject: int) -> Response:
    form = validated_query(TimelineQueryForm, request.query_params)
    size = page_size(request.query_params, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    data = form.cleaned_data
    # A range that ends before it starts is empty, not an error: what it asks for is clear.
    since, until = day_bounds(data.get("since"), data.get("until"))
    kinds = data["kinds"].split(",") if data.get("kinds") else None
    page = selector(
        **subject,
        kinds=kinds,
        since=since,
        until=until,
        cursor=cursor(request.query_params) or None,
        limit=size,
    )
    next_link = None
    if page.next_cursor:
        next_link = replace_query_param(request.build_absolute_uri(), "cursor", page.next_cursor)
    body = {"next": next_link, "previous": None, "results": TimelineEntrySerializer(page.entries, many=True).data}
    return Response(body)


TIMELINE_PARAMETERS = [
    *form_parameters(TimelineQueryForm),
    cursor_parameter(),
    page_size_parameter(default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE),
]
TIMELINE_DESCRIPTION = (
    "Newest first: tickets, messages, CSAT answers, notes and tasks, merged from every app. Follow `next` for "
    "older entries; the cursor stays exact when new activity arrives meanwhile."
)


class CustomerTimelineApi(_CustomerApi):
    serializer_class = TimelinePageSerializer

    @extend_schema(
        summary="A customer's timeline",
        description=TIMELINE_DESCRIPTION + " A company's timeline includes its contacts' activity.",
        parameters=TIMELINE_PARAMETERS,
        responses=TimelinePageSerializer,
    )
    def get(self, request: Request, customer_id: int) -> Response:
        _customer_exists(customer_id)
        return _timeline_response(request, selectors.customer_timeline, customer_id=customer_id)


class ContactTimelineApi(_CustomerApi):
    serializer_class = TimelinePageSerializer

    @extend_schema(
        summary="A contact's timeline",
        description=TIMELINE_DESCRIPTION,
        parameters=TIMELINE_PARAMETERS,
        responses=TimelinePageSerializer,
    )
    def get(self, request: Request, contact_id: int) -> Response:
        _contact(contact_id)
        return _timeline_response(request, selectors.contact_timeline, contact_id=contact_id)


def _customer_exists(customer_id: int) -> None:
    if not Customer.objects.filter(pk=customer_id).exists():
        raise NotFound(f"No customer has the id {customer_id} in this workspace.")


# --- Notes and tasks ----------------------------------------------------------------------------


def _note(note_id: int) -> Note:
    try:
        return selectors.note_get(note_id=note_id)
    except Note.DoesNotExist:
        raise NotFound(f"No note has the id {note_id} in this workspace.") from None


def _task(task_id: int) -> Task:
    try:
        return selectors.task_get(task_id=task_id)
    except Task.DoesNotExist:
        raise NotFound(f"No task has the id {task_id} in this workspace.") from None


def _subject(customer_id: int | None, contact_id: int | None) -> dict:
    if contact_id is not None:
        contact = _contact(contact_id)
        return {"customer": contact.customer, "contact": contact}
    return {"customer": _customer(customer_id), "contact": None}


class _NoteListApi(_CustomerApi):
    serializer_class = NoteOutputSerializer

    def _get(self, customer_id: int | None = None, contact_id: int | None = None) -> Response:
        _subject(customer_id, contact_id)
        notes = selectors.note_list(customer_id=customer_id, contact_id=contact_id, limit=NOTE_LIST_LIMIT)
        return Response(NoteOutputSerializer(notes, many=True).data)

    def _post(self, request: Request, customer_id: int | None = None, contact_id: int | None = None) -> Response:
        subject = _subject(customer_id, contact_id)
        serializer = NoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.note_create(actor=request.user, **subject, **serializer.validated_data)
        return Response(NoteOutputSerializer(selectors.note_get(note_id=note.pk)).data, status=status.HTTP_201_CREATED)


NOTES_LIST = {
    "description": f"Pinned notes first, then the newest; at most {NOTE_LIST_LIMIT}.",
    "responses": NoteOutputSerializer(many=True),
}
NOTE_CREATE = {"request": NoteInputSerializer, "responses": {201: NoteOutputSerializer}}


class CustomerNoteListApi(_NoteListApi):
    @extend_schema(summary="A customer's notes (its contacts' included)", **NOTES_LIST)
    def get(self, request: Request, customer_id: int) -> Response:
        return self._get(customer_id=customer_id)

    @extend_schema(summary="Add a note to a customer", **NOTE_CREATE)
    def post(self, request: Request, customer_id: int) -> Response:
        return self._post(request, customer_id=customer_id)


class ContactNoteListApi(_NoteListApi):
    @extend_schema(summary="A contact's notes", **NOTES_LIST)
    def get(self, request: Request, contact_id: int) -> Response:
        return self._get(contact_id=contact_id)

    @extend_schema(summary="Add a note to a contact", **NOTE_CREATE)
    def post(self, request: Request, contact_id: int) -> Response:
        return self._post(request, contact_id=contact_id)


class NoteDetailApi(_CustomerApi):
    serializer_class = NoteOutputSerializer
    delete_capability = "customers.edit"

    @extend_schema(summary="Get a note", responses=NoteOutputSerializer)
    def get(self, request: Request, note_id: int) -> Response:
        return Response(NoteOutputSerializer(_note(note_id)).data)

    @extend_schema(
        summary="Change a note",
        description="Only the fields sent are changed.",
        request=NoteUpdateSerializer,
        responses=NoteOutputSerializer,
    )
    def patch(self, request: Request, note_id: int) -> Response:
        note = _note(note_id)
        serializer = NoteUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.note_update(note=note, actor=request.user, data=serializer.validated_data)
        return Response(NoteOutputSerializer(_note(note_id)).data)

    @extend_schema(summary="Delete a note", responses={204: None})
    def delete(self, request: Request, note_id: int) -> Response:
        services.note_delete(note=_note(note_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _TaskListApi(_CustomerApi):
    serializer_class = TaskOutputSerializer

    def _get(self, customer_id: int | None = None, contact_id: int | None = None) -> Response:
        _subject(customer_id, contact_id)
        tasks = selectors.task_list(customer_id=customer_id, contact_id=contact_id)
        return Response(TaskOutputSerializer(tasks, many=True).data)

    def _post(self, request: Request, customer_id: int | None = None, contact_id: int | None = None) -> Response:
        subject = _subject(customer_id, contact_id)
        serializer = TaskInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["owner"] = data.get("owner") or request.user
        task = services.task_create(actor=request.user, **subject, **data)
        return Response(TaskOutputSerializer(selectors.task_get(task_id=task.pk)).data, status=status.HTTP_201_CREATED)


TASKS_LIST = {
    "description": "Open tasks by due date (undated last), then the ten most recently done.",
    "responses": TaskOutputSerializer(many=True),
}
TASK_CREATE = {"request": TaskInputSerializer, "responses": {201: TaskOutputSerializer}}


class CustomerTaskListApi(_TaskListApi):
    @extend_schema(summary="A customer's tasks (its contacts' included)", **TASKS_LIST)
    def get(self, request: Request, customer_id: int) -> Response:
        return self._get(customer_id=customer_id)

    @extend_schema(summary="Add a task to a customer", **TASK_CREATE)
    def post(self, request: Request, customer_id: int) -> Response:
        return self._post(request, customer_id=customer_id)


class ContactTaskListApi(_TaskListApi):
    @extend_schema(summary="A contact's tasks", **TASKS_LIST)
    def get(self, request: Request, contact_id: int) -> Response:
        return self._get(contact_id=contact_id)

    @extend_schema(summary="Add a task to a contact", **TASK_CREATE)
    def post(self, request: Request, contact_id: int) -> Response:
        return self._post(request, contact_id=contact_id)


class TaskDetailApi(_CustomerApi):
    serializer_class = TaskOutputSerializer

    @extend_schema(summary="Get a task", responses=TaskOutputSerializer)
    def get(self, request: Request, task_id: int) -> Response:
        return Response(TaskOutputSerializer(_task(task_id)).data)

    @extend_schema(
        summary="Change, complete or reopen a task",
        description="Only the fields sent are changed; `done` completes (true) or reopens (false) the task. "
        "Changing `reminder_at` schedules a new reminder email.",
        request=TaskUpdateSerializer,
        responses=TaskOutputSerializer,
    )
    def patch(self, request: Request, task_id: int) -> Response:
        task = _task(task_id)
        serializer = TaskUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        done = data.pop("done", None)
        with transaction.atomic():
            if data:
                services.task_update(task=task, actor=request.user, data=data)
            if done is True:
                services.task_complete(task=task, actor=request.user)
            elif done is False:
                services.task_reopen(task=task, actor=request.user)
        return Response(TaskOutputSerializer(_task(task_id)).data)


class CustomerHealthApi(_CustomerApi):
    serializer_class = CustomerHealthOutputSerializer

    @extend_schema(
        summary="Get a customer's health",
        description="The latest score (0–100), its band and drivers, and one score a day for the last 90 days.",
        responses=CustomerHealthOutputSerializer,
    )
    def get(self, request: Request, customer_id: int) -> Response:
        customer = _customer(customer_id)
        customer.history = selectors.customer_health_history(customer_id=customer.pk)
        return Response(CustomerHealthOutputSerializer(customer).data)
