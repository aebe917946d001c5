from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        from . import company_panel, timeline

        # Leads, their stage changes and activities on customers' company and contact timelines.
        timeline.register()
        # The company's open leads on its page, read-only (customers imports no leads).
        company_panel.register()
