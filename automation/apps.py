from django.apps import AppConfig


class AutomationConfig(AppConfig):
    """Rules that act when something happens (an event) or when time passes (beat): conditions over the fields other
    apps offer through their facades, actions through their facades. Reads and writes no other app's tables."""

    name = "automation"
    verbose_name = "Automation"

    def ready(self) -> None:
        from . import receivers
        from .actions import notice_event_type_register

        receivers.register()
        notice_event_type_register()
