"""Fixtures for tests that need the real stack: a live ASGI server, a real Celery worker, a browser."""
