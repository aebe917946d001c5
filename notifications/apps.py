from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """One notification service for every app: in-app centre (live bell), email, SMS and Web Push, with
    preferences, quiet hours, digests, templates and delivery tracking. Apps call `notifications.facade.notify`."""

    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from . import events, receivers

        events.register_builtin()
        receivers.register()
