"""Test data for the AI app."""

import hashlib

import factory
import numpy as np

from ai.models import Embedding
from ai.models.vectors import EMBEDDING_DIMENSIONS


def unit_vector(seed: int) -> list[float]:
    vector = np.random.default_rng(seed).standard_normal(EMBEDDING_DIMENSIONS)
    return (vector / np.linalg.norm(vector)).tolist()


class EmbeddingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Embedding

    source = "test.document"
    object_id = factory.Sequence(str)
    chunk = 0
    text_hash = factory.LazyAttribute(lambda o: hashlib.sha256(o.object_id.encode()).hexdigest())
    model = "all-MiniLM-L6-v2"
    vector = factory.Sequence(unit_vector)
