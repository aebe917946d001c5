from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self) -> None:
        from .selectors.config import helpdesk_config_watch

        helpdesk_config_watch()
