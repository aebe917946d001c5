"""Talking to mail servers: one module per protocol (IMAP, Microsoft Graph, Gmail API). Each polls a mailbox,
hands every message to `inbox.services.inbound.inbound_receive`, and (the cloud ones) sends through the provider."""


class FetchError(Exception):
    """A mailbox could not be read; `str()` is a sentence for the admin (shown as the mailbox's last error)."""
