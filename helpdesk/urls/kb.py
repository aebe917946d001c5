"""Knowledge base for agents: articles, editor, search, categories (/kb/)."""

from django.urls import path

from ..views import kb as views

app_name = "kb"
urlpatterns = [
    path("", views.article_list, name="article_list"),
    path("new/", views.article_create, name="article_create"),
    path("preview/", views.article_preview, name="article_preview"),
    path("<int:article_id>/", views.article_detail, name="article_detail"),
    path("<int:article_id>/edit/", views.article_update, name="article_update"),
    path("<int:article_id>/delete/", views.article_delete, name="article_delete"),
    path("<int:article_id>/review/", views.article_review, name="article_review"),
    path("from-ticket/<int:ticket_id>/", views.article_from_ticket, name="article_from_ticket"),
    path("categories/", views.category_list, name="category_list"),
    path("categories/new/", views.category_create, name="category_create"),
    path("categories/<int:article_category_id>/edit/", views.category_update, name="category_update"),
    path("categories/<int:article_category_id>/delete/", views.category_delete, name="category_delete"),
]
