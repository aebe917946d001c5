"""Celery entry points of the inbox (ids in, one service call each), one module per area.

Celery's autodiscovery imports this package; every module with tasks is imported here.
"""

from . import api_channel, cloudmail, inbound, mailboxes, outbound, sms, webhooks  # noqa: F401
