from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """Figures across the product: metrics from rollup tables, trends that link support to revenue, dashboards,
    reports and alerts. Reads other apps only through their facades."""

    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from . import alerts, receivers

        receivers.register()
        alerts.alert_event_types_register()
