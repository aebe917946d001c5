"""What other packages may use of the inbox: the ASGI wiring of the chat visitor's websocket (config/asgi.py)."""

from __future__ import annotations


def chat_socket_router(default):
    """An ASGI app sending the chat widget's visitor socket (/ws/chat/) to the inbox, every other socket to
    `default`."""
    from .routing import ChatSocketRouter

    return ChatSocketRouter(default)
