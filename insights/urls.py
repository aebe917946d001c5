from django.urls import path

from . import views, views_signals

app_name = "insights"

urlpatterns = [
    path("trends/", views.trend_list, name="trend_list"),
    path("trends/report/", views.trend_report, name="trend_report"),
    path("hurdles/", views_signals.quote_hurdles, name="quote_hurdles"),
    path("churn/", views_signals.churn_signals, name="churn_signals"),
]
