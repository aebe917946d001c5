"""Article embeddings through the real parts: queued on the Redis broker after commit, embedded by a real worker."""

from __future__ import annotations

import time
import uuid

import pytest

from ai import facade as ai
from helpdesk.models import Article
from helpdesk.selectors.kb import SOURCE

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]


def _similarity(live_data, article_id: int, text: str) -> float | None:
    found = live_data.run(lambda: dict(ai.search_similar(source=SOURCE, text=text, k=20)))
    return found.get(str(article_id))


def _wait(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"not done within {timeout:.0f} s")


def test_a_saved_article_is_embedded_by_the_worker_and_forgotten_on_delete(live_celery, live_data):
    from helpdesk.services import kb as services

    title = f"Bluetooth headset keeps disconnecting {uuid.uuid4().hex[:6]}"
    article = live_data.run(lambda: services.article_create(actor=None, title=title, body="Re-pair the headset."))
    live_data.add_cleanup(lambda: Article.objects.filter(pk=article.pk).delete())
    live_data.add_cleanup(lambda: ai.forget_text(source=SOURCE, object_id=article.pk))

    _wait(lambda: (_similarity(live_data, article.pk, title) or 0) > 0.8)

    live_data.run(lambda: services.article_delete(article=Article.objects.get(pk=article.pk), actor=None))
    assert _similarity(live_data, article.pk, title) is None
