"""URLs of the inbox under /inbox/ (namespace `inbox`), one module per area."""
