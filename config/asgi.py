"""ASGI entry point: Django for HTTP, tenant-scoped Channels consumers for websockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
# Under ASGI, sync views and database_sync_to_async run on a pool of threads, each holding its own connection:
# persistent connections piled up (300 API creates left 93 open, then "too many clients" errors). The web
# process opens one per request instead; Celery workers (fixed threads) keep theirs (settings: DB_CONN_MAX_AGE).
os.environ.setdefault("DB_CONN_MAX_AGE", "0")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from core.consumers import LiveConsumer  # noqa: E402
from tenants.channels_middleware import TenantAuthMiddleware  # noqa: E402

websocket_urlpatterns = [path("ws/live/", LiveConsumer.as_asgi())]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(TenantAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
