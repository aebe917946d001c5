"""Workspace AI pages; one module per page family, routed by ai/urls.py."""
