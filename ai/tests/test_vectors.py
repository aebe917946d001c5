"""The vector store: upsert skips unchanged text, search returns the nearest first, and never crosses workspaces."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from ai import vectors
from ai.models import Embedding
from ai.providers.local import get_local_provider
from ai.tests.factories import EmbeddingFactory

pytestmark = pytest.mark.django_db

TICKETS = {
    "101": "I forgot my password and the reset email never arrives.",
    "102": "I was charged twice for the subscription this month.",
    "103": "My parcel has not arrived and tracking shows no update.",
    "104": "The dashboard takes thirty seconds to load.",
}


@pytest.fixture
def indexed() -> None:
    assert vectors.embeddings_upsert_many(source="helpdesk.ticket", items=TICKETS.items()) == 4


def test_upsert_stores_a_unit_vector_and_skips_unchanged_text():
    assert vectors.embedding_upsert(source="helpdesk.ticket", object_id=7, text="Refund please") is True
    row = Embedding.objects.get(source="helpdesk.ticket", object_id="7")
    assert row.model == "all-MiniLM-L6-v2" and row.chunk == 0
    assert np.linalg.norm(row.vector) == pytest.approx(1.0, abs=1e-5)
    assert vectors.embedding_upsert(source="helpdesk.ticket", object_id=7, text="Refund please") is False


def test_upsert_of_changed_text_replaces_the_vector_in_place():
    vectors.embedding_upsert(source="helpdesk.ticket", object_id="7", text="Refund please")
    before = Embedding.objects.get(object_id="7")
    assert vectors.embedding_upsert(source="helpdesk.ticket", object_id="7", text="Where is my parcel?") is True
    after = Embedding.objects.get(object_id="7")
    assert after.pk == before.pk and after.text_hash != before.text_hash
    assert float(np.dot(after.vector, before.vector)) < 0.5


def test_unchanged_texts_are_not_embedded_again(indexed, monkeypatch):
    calls = []
    real = get_local_provider().embed_array
    monkeypatch.setattr(get_local_provider(), "embed_array", lambda texts: calls.append(texts) or real(texts))
    items = {**TICKETS, "104": "The dashboard is slow.", "105": "How do I add a macro?"}
    assert vectors.embeddings_upsert_many(source="helpdesk.ticket", items=items.items(), batch_size=3) == 2
    assert sorted(t for batch in calls for t in batch) == ["How do I add a macro?", "The dashboard is slow."]
    assert Embedding.objects.filter(source="helpdesk.ticket").count() == 5


def test_delete_removes_every_chunk_of_the_object(indexed):
    vectors.embedding_upsert(source="helpdesk.ticket", object_id="101", text="Second part of the ticket", chunk=1)
    assert vectors.embedding_delete(source="helpdesk.ticket", object_id="101") == 2
    assert vectors.embedding_delete(source="helpdesk.ticket", object_id="101") == 0
    assert not Embedding.objects.filter(object_id="101").exists()


def test_search_returns_the_nearest_first(indexed):
    results = vectors.similar(source="helpdesk.ticket", text="I can't sign in, password reset mail missing", k=3)
    assert results[0][0] == "101"
    scores = [score for _, score in results]
    assert scores == sorted(scores, reverse=True) and len(results) == 3
    assert 0.5 < scores[0] <= 1.0


def test_search_by_vector_excluding_the_object_itself(indexed):
    own = Embedding.objects.get(source="helpdesk.ticket", object_id="103").vector
    results = vectors.similar(source="helpdesk.ticket", vector=own, k=10, exclude_object_id="103")
    assert "103" not in dict(results) and len(results) == 3
    assert vectors.similar(source="helpdesk.ticket", vector=own, k=1) == [("103", pytest.approx(1.0, abs=1e-5))]


def test_search_stays_within_the_source(indexed):
    vectors.embedding_upsert(source="kb.article", object_id="101", text="Resetting your password: a guide")
    results = vectors.similar(source="kb.article", text="password reset", k=10)
    assert [object_id for object_id, _ in results] == ["101"]


def test_multi_chunk_objects_appear_once_with_their_best_chunk(indexed):
    vectors.embedding_upsert(source="helpdesk.ticket", object_id="102", text="Password reset link broken", chunk=1)
    results = vectors.similar(source="helpdesk.ticket", text="password reset link", k=4)
    ids = [object_id for object_id, _ in results]
    assert len(ids) == len(set(ids)) == 4
    assert ids[0] in {"101", "102"}


def test_search_never_sees_another_workspace(indexed, other_tenant, tenant):
    with tenant_context(other_tenant):
        assert connection.schema_name == other_tenant.schema_name
        assert vectors.similar(source="helpdesk.ticket", text="password reset", k=10) == []
        vectors.embedding_upsert(source="helpdesk.ticket", object_id="900", text="Beta's secret password reset ticket")
        assert [oid for oid, _ in vectors.similar(source="helpdesk.ticket", text="password", k=10)] == ["900"]
    connection.set_tenant(tenant)
    found = [oid for oid, _ in vectors.similar(source="helpdesk.ticket", text="secret password reset", k=10)]
    assert "900" not in found and len(found) == 4


def test_factory_rows_are_searchable_by_vector():
    row = EmbeddingFactory(source="test.document")
    assert vectors.similar(source="test.document", vector=row.vector, k=1)[0][0] == row.object_id


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of text= or vector="),
        ({"text": "a", "vector": [0.1] * 384}, "exactly one of text= or vector="),
        ({"text": "  "}, "empty text"),
        ({"vector": [0.1] * 3}, "384 finite numbers"),
        ({"vector": [0.0] * 384}, "not all zero"),
        ({"text": "refund", "k": 0}, "k must be between 1 and 1000"),
    ],
)
def test_bad_search_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        vectors.similar(source="helpdesk.ticket", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "", "object_id": "1", "text": "x"}, "source must be"),
        ({"source": "s", "object_id": "x" * 65, "text": "x"}, "object_id must be"),
        ({"source": "s", "object_id": "1", "text": " "}, "Cannot embed an empty text"),
    ],
)
def test_bad_upserts_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        vectors.embedding_upsert(**kwargs)
