from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self) -> None:
        from .facade import timeline_provider_register
        from .selectors.config import helpdesk_config_watch
        from .services.ticket_ai.classifier import training_sources_register

        helpdesk_config_watch()
        # The AI models page trains the ticket classifiers from the examples the helpdesk provides.
        training_sources_register()
        # Tickets, messages and CSAT answers on customers' company and contact timelines.
        timeline_provider_register()
