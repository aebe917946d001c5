"""Inbox reads, one module per area."""
