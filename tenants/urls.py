"""The public site's pages, mounted at "/" of localhost."""

from django.urls import path

from . import views

app_name = "tenants"
urlpatterns = [
    path("", views.landing, name="landing"),
    path("signin/", views.workspace_signin, name="workspace_signin"),
    path("signup/", views.signup, name="signup"),
    path("check-address/", views.signup_address, name="signup_address"),
    path("signup/<slug:slug>/", views.signup_progress, name="signup_progress"),
    path("terms/", views.terms, name="terms"),
]
