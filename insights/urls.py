from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("trends/", views.trend_list, name="trend_list"),
    path("trends/report/", views.trend_report, name="trend_report"),
]
