"""Helpdesk endpoints, mounted under /api/v1/: tickets, their messages and AI results, attachments, articles, SLA
policies."""

from django.urls import path

from . import views

app_name = "helpdesk_api"
urlpatterns = [
    path("tickets/", views.TicketListApi.as_view(), name="ticket_list"),
    path("tickets/<int:ticket_id>/", views.TicketDetailApi.as_view(), name="ticket_detail"),
    path("tickets/<int:ticket_id>/status/", views.TicketStatusApi.as_view(), name="ticket_status"),
    path("tickets/<int:ticket_id>/assignment/", views.TicketAssignmentApi.as_view(), name="ticket_assignment"),
    path("tickets/<int:ticket_id>/messages/", views.TicketMessageListApi.as_view(), name="message_list"),
    path("tickets/<int:ticket_id>/analysis/", views.TicketAnalysisApi.as_view(), name="ticket_analysis"),
    path("tickets/<int:ticket_id>/suggestions/", views.TicketAISuggestionListApi.as_view(), name="ticket_suggestions"),
    path("tickets/<int:ticket_id>/drafts/", views.TicketDraftApi.as_view(), name="ticket_drafts"),
    path(
        "tickets/<int:ticket_id>/improved-description/",
        views.TicketImprovedDescriptionApi.as_view(),
        name="ticket_improved_description",
    ),
    path("attachments/<int:attachment_id>/", views.AttachmentDownloadApi.as_view(), name="attachment_download"),
    path("kb/articles/", views.ArticleListApi.as_view(), name="article_list"),
    path("kb/articles/<int:article_id>/", views.ArticleDetailApi.as_view(), name="article_detail"),
    path("sla-policies/", views.SLAPolicyListApi.as_view(), name="sla_policy_list"),
    path("sla-policies/<int:policy_id>/", views.SLAPolicyDetailApi.as_view(), name="sla_policy_detail"),
]
