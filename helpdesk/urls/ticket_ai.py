"""AI on a ticket: analysis panel, suggestions, composer Improve, reply drafts (/tickets/<id>/ai/)."""

from django.urls import path

from ..views import ticket_ai as views

app_name = "ticket_ai"
urlpatterns = [
    path("<int:ticket_id>/ai/panel/", views.ticket_ai_panel, name="panel"),
    path("<int:ticket_id>/ai/analyse/", views.ticket_ai_analyse, name="analyse"),
    path("<int:ticket_id>/ai/suggestions/apply/", views.ticket_ai_suggestion_apply, name="suggestion_apply"),
    path("<int:ticket_id>/ai/suggestions/dismiss/", views.ticket_ai_suggestion_dismiss, name="suggestion_dismiss"),
    path("<int:ticket_id>/ai/improve/", views.ticket_ai_improve, name="improve"),
    path("<int:ticket_id>/ai/improve/accept/", views.ticket_ai_improve_accept, name="improve_accept"),
    path("<int:ticket_id>/ai/improve/reject/", views.ticket_ai_improve_reject, name="improve_reject"),
    path("<int:ticket_id>/ai/reply/rewrite/", views.ticket_ai_reply_rewrite, name="reply_rewrite"),
    path("<int:ticket_id>/ai/reply/draft/", views.ticket_ai_reply_draft, name="reply_draft"),
    # Not tied to a saved ticket: the new-ticket form's Improve, and feedback on discarded suggestions.
    path("ai/improve/", views.ticket_ai_draft_improve, name="draft_improve"),
    path("ai/feedback/", views.ticket_ai_feedback, name="feedback"),
]
