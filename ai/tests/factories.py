"""Test data for the AI app."""

import hashlib
from decimal import Decimal

import factory
import numpy as np

from ai.models import AIFeedback, AIPolicy, AIRun, Embedding, FeatureRoute, PromptOverride, ProviderConfig
from ai.models.vectors import EMBEDDING_DIMENSIONS
from core import crypto


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


class ProviderConfigFactory(factory.django.DjangoModelFactory):
    """Pass `api_key="sk-…"` to store it encrypted, as the services do."""

    class Meta:
        model = ProviderConfig

    class Params:
        api_key = "sk-test-0000000000000000abcd"

    provider = "openai"
    label = factory.Sequence(lambda n: f"Provider {n}")
    model = "gpt-4o-mini"
    priority = factory.Sequence(lambda n: 10 + n)
    api_key_encrypted = factory.LazyAttribute(lambda o: crypto.encrypt(o.api_key))
    api_key_hint = factory.LazyAttribute(lambda o: crypto.key_hint(o.api_key))


class FeatureRouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeatureRoute

    feature = factory.Sequence(lambda n: f"feature_{n}")
    provider_config_ids = factory.LazyFunction(list)


class AIPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIPolicy

    allow_external_providers = True


class PromptOverrideFactory(factory.django.DjangoModelFactory):
    """An inactive version by default (one active version per feature); pass active=True to put it in use."""

    class Meta:
        model = PromptOverride

    feature = "summarize"
    version = factory.Sequence(lambda n: 1000 + n)
    text = "# Workspace summary prompt\n[system]\nSummarise in $max_sentences sentences as JSON.\n[user]\n$text\n"
    active = False


class AIRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIRun

    feature = "summarize"
    operation = "summarize"
    provider = "openai"
    model = "gpt-4o-mini"
    prompt_key = "summarize"
    prompt_version = "system:v1"
    input_tokens = 120
    output_tokens = 40
    cost_usd = Decimal("0.000042")
    latency_ms = 350
    status = AIRun.Status.OK
    output_text = "The customer cannot sign in since this morning."


class AIFeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIFeedback

    run = factory.SubFactory(AIRunFactory)
    outcome = AIFeedback.Outcome.ACCEPTED
    edit_distance = 0


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ai.Dataset"

    name = factory.Sequence(lambda n: f"test.classifier{n}")
    texts = factory.LazyFunction(lambda: ["refund please", "charged twice", "cannot log in", "password reset"])
    labels = factory.LazyFunction(lambda: ["billing", "billing", "login", "login"])
    label_counts = factory.LazyFunction(lambda: {"billing": 2, "login": 2})
    sources = factory.LazyFunction(lambda: {"tickets": 4})
    examples = 4


class ModelVersionFactory(factory.django.DjangoModelFactory):
    """A ready version with placeholder model bytes: enough for pages and storage; train one to predict."""

    class Meta:
        model = "ai.ModelVersion"

    dataset = factory.SubFactory(DatasetFactory)
    name = factory.LazyAttribute(lambda version: version.dataset.name)
    version = factory.Sequence(lambda n: n + 1)
    status = "ready"
    progress = 1.0
    model_bytes = b"not a trained model"
    evaluation = factory.LazyFunction(
        lambda: {
            "holdout_size": 2,
            "accuracy": 0.5,
            "macro_f1": 0.4,
            "coverage": 1.0,
            "answered_accuracy": 0.5,
            "labels": ["billing", "login"],
            "per_class": {
                "billing": {"precision": 0.5, "recall": 1.0, "f1": 0.67, "support": 1},
                "login": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
            },
            "confusion": [[1, 0], [1, 0]],
        }
    )
