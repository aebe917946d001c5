"""The customer's public quote page (/q/<token>/) and its accept/decline posts: anonymous, opened by a signed token
(quotes.public), on the workspace's own host only; and the workspace's logo those pages show."""

from django.urls import path

from . import views_public as views

app_name = "quotes_public"
urlpatterns = [
    path("logo/", views.quote_logo, name="logo"),  # before <token>/: "logo" is never a signed token
    path("<str:token>/", views.quote_public, name="quote_public"),
    path("<str:token>/accept/", views.quote_public_accept, name="accept"),
    path("<str:token>/decline/", views.quote_public_decline, name="decline"),
]
