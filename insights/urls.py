from django.urls import path

from . import views, views_dashboards, views_signals

app_name = "insights"

urlpatterns = [
    path("", views_dashboards.insights_home, name="home"),
    path("dashboards/new/", views_dashboards.dashboard_create, name="dashboard_create"),
    path("dashboards/<int:dashboard_id>/edit/", views_dashboards.dashboard_update, name="dashboard_update"),
    path("dashboards/<int:dashboard_id>/delete/", views_dashboards.dashboard_delete, name="dashboard_delete"),
    path("dashboards/<int:dashboard_id>/widgets/new/", views_dashboards.widget_create, name="widget_create"),
    path("dashboards/widgets/<int:widget_id>/edit/", views_dashboards.widget_update, name="widget_update"),
    path("dashboards/widgets/<int:widget_id>/delete/", views_dashboards.widget_delete, name="widget_delete"),
    path(
        "dashboards/widgets/<int:widget_id>/earlier/",
        views_dashboards.widget_move,
        {"offset": -1},
        name="widget_earlier",
    ),
    path("dashboards/widgets/<int:widget_id>/later/", views_dashboards.widget_move, {"offset": 1}, name="widget_later"),
    path("dashboards/<slug:dashboard_slug>/", views_dashboards.dashboard, name="dashboard"),
    path("dashboards/<slug:dashboard_slug>/widgets/<int:index>/", views_dashboards.widget, name="widget"),
    path(
        "dashboards/<slug:dashboard_slug>/widgets/<int:index>/export/",
        views_dashboards.widget_export,
        name="widget_export",
    ),
    path("trends/", views.trend_list, name="trend_list"),
    path("trends/report/", views.trend_report, name="trend_report"),
    path("hurdles/", views_signals.quote_hurdles, name="quote_hurdles"),
    path("churn/", views_signals.churn_signals, name="churn_signals"),
]
