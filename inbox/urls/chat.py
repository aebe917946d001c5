"""The chat widget's public endpoints (/chat/, called cross-origin from the sites that embed it) and the agent's
typing signal on a chat ticket."""

from django.urls import path

from ..views import chat as views

app_name = "chat"
urlpatterns = [
    path("widget.js", views.widget_script, name="widget_script"),
    path("config/", views.widget_config, name="widget_config"),
    path("session/", views.session_start, name="session_start"),
    path("suggest/", views.articles_suggest, name="articles_suggest"),
    path("deflection/", views.deflection_record, name="deflection_record"),
    path("offline/", views.offline_message, name="offline_message"),
    path("agent-typing/<int:ticket_id>/", views.agent_typing, name="agent_typing"),
]
