from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        from .timeline import register

        # Leads, their stage changes and activities on customers' company and contact timelines.
        register()
