from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        from .intelligence import register_outcome_source

        register_outcome_source()  # the AI models page can train "Lead conversion" from closed leads
