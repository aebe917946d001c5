"""The public help center of the workspace: articles, request form, "My requests", CSAT survey (/help/).

Anonymous; "My requests" needs a help-center session from an emailed link (never an agent login)."""

from django.urls import path

from ..views import help_center as views

app_name = "help_center"
urlpatterns = [
    path("", views.help_home, name="home"),
    path("categories/<slug:category_slug>/", views.help_category, name="category"),
    path("articles/<slug:article_slug>/", views.help_article, name="article"),
    path("articles/<slug:article_slug>/helpful/", views.help_article_vote, name="article_vote"),
    path("requests/new/", views.help_request_new, name="request_new"),
    path("requests/new/suggestions/", views.help_request_suggestions, name="request_suggestions"),
    path("requests/new/solved/", views.help_request_solved, name="request_solved"),
    path("sign-in/", views.help_sign_in, name="sign_in"),
    path("sign-in/<str:token>/", views.help_sign_in_open, name="sign_in_open"),
    path("sign-out/", views.help_sign_out, name="sign_out"),
    path("my-requests/", views.help_my_requests, name="my_requests"),
    path("requests/<str:token>/", views.help_request_status, name="request_status"),
    path("survey/<str:token>/", views.help_survey, name="survey"),
]
