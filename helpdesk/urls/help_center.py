"""The public help center of the workspace: articles, request form, CSAT survey (/help/). Anonymous."""

from django.urls import path

from ..views import help_center as views

app_name = "help_center"
urlpatterns = [
    path("", views.help_home, name="home"),
    path("categories/<slug:category_slug>/", views.help_category, name="category"),
    path("articles/<slug:article_slug>/", views.help_article, name="article"),
    path("articles/<slug:article_slug>/helpful/", views.help_article_vote, name="article_vote"),
    path("requests/new/", views.help_request_new, name="request_new"),
    path("requests/<str:token>/", views.help_request_status, name="request_status"),
    path("survey/<str:token>/", views.help_survey, name="survey"),
]
