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
