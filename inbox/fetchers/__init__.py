"""Talking to mail servers: one module per protocol (IMAP here; Microsoft Graph and Gmail beside it)."""


class FetchError(Exception):
    """A mailbox could not be read; `str()` is a sentence for the admin (shown as the mailbox's last error)."""
