"""Customer and contact endpoints, mounted under /api/v1/."""

from django.urls import path

from .churn import CustomerChurnApi
from .digests import CustomerDailySummaryApi
from .views import (
    ContactDetailApi,
    ContactListApi,
    ContactNoteListApi,
    ContactTaskListApi,
    ContactTimelineApi,
    CustomerDetailApi,
    CustomerHealthApi,
    CustomerListApi,
    CustomerNoteListApi,
    CustomerTaskListApi,
    CustomerTimelineApi,
    NoteDetailApi,
    TaskDetailApi,
)

app_name = "customers_api"
urlpatterns = [
    path("customers/", CustomerListApi.as_view(), name="customer_list"),
    path("customers/<int:customer_id>/", CustomerDetailApi.as_view(), name="customer_detail"),
    path("customers/<int:customer_id>/timeline/", CustomerTimelineApi.as_view(), name="customer_timeline"),
    path("customers/<int:customer_id>/notes/", CustomerNoteListApi.as_view(), name="customer_notes"),
    path("customers/<int:customer_id>/tasks/", CustomerTaskListApi.as_view(), name="customer_tasks"),
    path("customers/<int:customer_id>/health/", CustomerHealthApi.as_view(), name="customer_health"),
    path(
        "customers/<int:customer_id>/daily-summary/", CustomerDailySummaryApi.as_view(), name="customer_daily_summary"
    ),
    path("customers/<int:customer_id>/churn/", CustomerChurnApi.as_view(), name="customer_churn"),
    path("contacts/", ContactListApi.as_view(), name="contact_list"),
    path("contacts/<int:contact_id>/", ContactDetailApi.as_view(), name="contact_detail"),
    path("contacts/<int:contact_id>/timeline/", ContactTimelineApi.as_view(), name="contact_timeline"),
    path("contacts/<int:contact_id>/notes/", ContactNoteListApi.as_view(), name="contact_notes"),
    path("contacts/<int:contact_id>/tasks/", ContactTaskListApi.as_view(), name="contact_tasks"),
    path("notes/<int:note_id>/", NoteDetailApi.as_view(), name="note_detail"),
    path("tasks/<int:task_id>/", TaskDetailApi.as_view(), name="task_detail"),
]
