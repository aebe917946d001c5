from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self) -> None:
        # The AI models page trains the ticket classifiers from the examples the helpdesk provides.
        from .services.ticket_ai.classifier import training_sources_register

        training_sources_register()
