"""Template tags and filters of the helpdesk."""
