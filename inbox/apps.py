from django.apps import AppConfig


class InboxConfig(AppConfig):
    """Channels customers reach the helpdesk by (email, chat, SMS, webhooks, API) and agents' replies leave by."""

    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects to helpdesk.contracts.outgoing_message)
        from .services import chat  # noqa: F401  (registers the chat channel's deliverer)
