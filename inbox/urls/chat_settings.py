"""Settings → Channels → Chat: the widget's settings, embed snippet and identity secret."""

from django.urls import path

from ..views import chat as views

app_name = "chat_settings"
urlpatterns = [
    path("", views.chat_settings, name="settings"),
    path("rotate-secret/", views.chat_secret_rotate, name="secret_rotate"),
]
