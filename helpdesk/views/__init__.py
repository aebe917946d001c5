"""Helpdesk pages and fragments: one module per page family."""
