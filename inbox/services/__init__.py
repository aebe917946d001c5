"""Writes and side effects of the inbox, one module per concern (inbound mail, outbound delivery, …)."""
