"""ASGI entry point: Django for HTTP, tenant-scoped Channels consumers for websockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
# Under ASGI every request runs on a thread of its own: persistent connections piled up behind finished threads
# (300 API creates left 93 open, then "too many clients"), and opening one per request forked a PostgreSQL
# backend each time. The web process borrows connections from psycopg's pool instead (settings: DB_POOL).
os.environ.setdefault("DB_POOL", "1")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from core.consumers import LiveConsumer  # noqa: E402
from inbox.facade import chat_socket_router  # noqa: E402
from tenants.channels_middleware import TenantAuthMiddleware  # noqa: E402

websocket_urlpatterns = [path("ws/live/", LiveConsumer.as_asgi())]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # TenantAuthMiddleware checks Host (ALLOWED_HOSTS) and Origin (the socket's own workspace host, not merely
        # any allowed host as channels' AllowedHostsOriginValidator did: sibling workspaces are same-site).
        # The chat widget's visitor socket (/ws/chat/) comes from customers' sites: inbox.routing checks it apart.
        "websocket": chat_socket_router(TenantAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
