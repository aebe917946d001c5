"""Every write of the helpdesk, one module per area. Import from the module: `from helpdesk.services import tickets`."""
