"""Every non-trivial read of the helpdesk, one module per area."""
