from django.urls import path

from . import views, views_dashboards, views_reports, views_signals

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
    # Scheduled reports and report downloads (insights/views_reports.py).
    path("trends/report.pdf", views_reports.trend_report_pdf, name="trend_report_pdf"),
    path("reports/", views_reports.report_schedule_list, name="report_schedule_list"),
    path("reports/new/", views_reports.report_schedule_create, name="report_schedule_create"),
    path("reports/<int:schedule_id>/", views_reports.report_schedule_edit, name="report_schedule_edit"),
    path("reports/<int:schedule_id>/delete/", views_reports.report_schedule_delete, name="report_schedule_delete"),
    path("reports/<int:schedule_id>/send/", views_reports.report_schedule_send, name="report_schedule_send"),
    path(
        "reports/<int:schedule_id>/preview.pdf", views_reports.report_schedule_preview, name="report_schedule_preview"
    ),
]
