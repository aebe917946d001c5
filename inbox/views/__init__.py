"""Pages and downloads of the inbox, one module per area."""
