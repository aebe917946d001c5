"""Celery entry points of the helpdesk (ids in, one service call each), one module per area.

Celery's autodiscovery imports this package; every module with tasks is imported here.
"""

from . import kb, sla, ticket_ai, tickets  # noqa: F401
