from django.apps import AppConfig


class InboxConfig(AppConfig):
    """Channels customers reach the helpdesk by (email, chat, SMS, webhooks, API) and agents' replies leave by."""

    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from core import crypto

        from . import receivers  # noqa: F401  (connects to helpdesk.contracts.outgoing_message)
        from .models import Mailbox, SmsNumber
        from .models.mail import SECRETS_PURPOSE
        from .models.sms import AUTH_TOKEN_PURPOSE
        from .services import cloudmail_transports, sms  # noqa: F401  (register the Graph/Gmail transports, "sms")

        crypto.encrypted_field_register(Mailbox, "secrets_encrypted", purpose=SECRETS_PURPOSE)
        crypto.encrypted_field_register(SmsNumber, "auth_token_encrypted", purpose=AUTH_TOKEN_PURPOSE)
