"""URL modules of the helpdesk, one per page family, each with its own namespace (see config/urls/tenant.py)."""
