from django.apps import AppConfig


class QuotesConfig(AppConfig):
    name = "quotes"
    verbose_name = "Quotes"

    def ready(self) -> None:
        from . import panels, timeline

        # Quote events on customers' company and contact timelines.
        timeline.register()
        # The company's and the lead's quotes on their pages, with "New quote" (customers and leads import no quotes).
        panels.register()
        # Insights' rollups follow quotes' owner, total and status (quotes.contracts.quotes_changed).
        from core.changes import changes_watch

        from .contracts import quotes_changed
        from .models import Quote

        counted = ("owner", "owner_id", "currency", "total", "status", "sent_at", "closed_at")
        changes_watch(Quote, quotes_changed, fields=counted)
