"""Test data for the AI app."""

import hashlib
from decimal import Decimal

import factory
import numpy as np

from ai import crypto
from ai.models import AIFeedback, AIPolicy, AIRun, Embedding, FeatureRoute, PromptOverride, ProviderConfig
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


class TrainedClassifierFactory(factory.django.DjangoModelFactory):
    """Placeholder model bytes: enough for storage tests; train through `facade.classifier_train` to predict."""

    class Meta:
        model = "ai.TrainedClassifier"

    name = factory.Sequence(lambda n: f"test.classifier{n}")
    labels = factory.LazyFunction(lambda: ["billing", "login"])
    label_counts = factory.LazyFunction(lambda: {"billing": 2, "login": 2})
    examples = 4
    embedding_model = "all-MiniLM-L6-v2"
    model_bytes = b"not a trained model"
