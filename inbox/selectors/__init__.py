"""Reads of the inbox, one module per area."""
