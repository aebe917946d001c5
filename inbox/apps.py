from django.apps import AppConfig


class InboxConfig(AppConfig):
    """Channels customers reach the helpdesk by (email, chat, SMS, webhooks, API) and agents' replies leave by."""

    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from core import crypto

        # Each channel registers its deliverer (services.outbound), mail transport (services.transports) or mailbox
        # connection check (services.mailboxes); receivers connects the hand-over.
        from . import receivers  # noqa: F401
        from .models import ChatWidget, Mailbox, SmsNumber, WebhookSubscription
        from .models.chat import SECRET_PURPOSE as CHAT_SECRET_PURPOSE
        from .models.mail import SECRETS_PURPOSE
        from .models.sms import AUTH_TOKEN_PURPOSE
        from .models.webhooks import SECRET_PURPOSE as WEBHOOK_SECRET_PURPOSE
        from .selectors.mailboxes import mailboxes_watch
        from .services import chat, cloudmail, cloudmail_transports, sms  # noqa: F401

        mailboxes_watch()

        crypto.encrypted_field_register(Mailbox, "secrets_encrypted", purpose=SECRETS_PURPOSE)
        crypto.encrypted_field_register(SmsNumber, "auth_token_encrypted", purpose=AUTH_TOKEN_PURPOSE)
        crypto.encrypted_field_register(ChatWidget, "identity_secret_encrypted", purpose=CHAT_SECRET_PURPOSE)
        crypto.encrypted_field_register(WebhookSubscription, "secret_encrypted", purpose=WEBHOOK_SECRET_PURPOSE)
