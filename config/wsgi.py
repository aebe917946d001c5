"""HTTP entry point for `make run` (gunicorn): pages and the API, served by threads that live as long as their
worker process, each keeping its database connection.

Websockets go to daphne (config.asgi) on a port of their own; pages open their socket there (LIVE_SOCKET_PORT).
Under ASGI every HTTP request ran on a thread made for it, which cost a third of a small request's CPU
(bench/README.md, "Helpdesk"). config.asgi still serves HTTP too, for a single-port deployment and the tests.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_wsgi_application()
