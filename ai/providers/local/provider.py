"""The offline provider: everything Switchboard can do with no network and no key, on this machine's CPU.

Models load lazily on first use and once per process (`get_local_provider()`): the MiniLM encoder (onnxruntime, ~0.6 s,
~90 MB of weights), lingua (~0.1 s, 32 MB), VADER and YAKE (instant). The last few documents' forward passes
are kept, so embedding, classifying and summarising one ticket costs one pass, not three.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import ClassVar

import numpy as np

from ai.providers.base import (
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    ProviderSettings,
    Unsupported,
)

from . import encoder as encoder_module
from .language import detect_language
from .moderation import moderate_text
from .rewrite import STYLES, rewrite_text
from .sentiment import score_sentiment
from .summarize import extractive_summary, keywords

# Zero-shot confidence = softmax(cosine / T). Cosines of a ticket to label descriptions typically sit within
# 0.1–0.2 of each other; T = 0.05 turns a 0.1 lead into ~88 % against one rival, without faking certainty.
ZERO_SHOT_TEMPERATURE = 0.05
_DOCUMENT_CACHE_SIZE = 16
_LABEL_CACHE_SIZE = 1024


def _label_phrases(name: str, description: str) -> list[str]:
    phrases = [name.replace("_", " "), *([description] if description else [])]
    phrases += [part.strip() for part in re.split(r"[,;:]", description) if part.strip()]
    return list(dict.fromkeys(phrases))


class LocalProvider:
    name: ClassVar[str] = "local"
    DEFAULT_MODEL: ClassVar[str] = "switchboard-local-1"
    is_external: ClassVar[bool] = False

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        self.settings = settings or ProviderSettings()
        self.model = self.settings.model or self.DEFAULT_MODEL
        self._encoder: encoder_module.MiniLMEncoder | None = None
        self._lock = threading.Lock()
        self._documents: OrderedDict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
        self._labels: OrderedDict[str, np.ndarray] = OrderedDict()

    # --- models ------------------------------------------------------------------------------------------------

    @property
    def encoder(self) -> encoder_module.MiniLMEncoder:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._encoder = encoder_module.MiniLMEncoder()
        return self._encoder

    def _document(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(embedding, token vectors, token character spans) of one text, from a small LRU cache."""
        with self._lock:
            cached = self._documents.get(text)
            if cached is not None:
                self._documents.move_to_end(text)
                return cached
        states = self.encoder.document_states(text)
        with self._lock:
            self._documents[text] = states
            while len(self._documents) > _DOCUMENT_CACHE_SIZE:
                self._documents.popitem(last=False)
        return states

    def _vector(self, text: str) -> np.ndarray:
        """One text's embedding. A text of one window goes through the document cache (same cost, and a summary
        of it next costs nothing); a longer one is embedded alone, since only its first window counts."""
        with self._lock:
            cached = self._documents.get(text)
        if cached is not None:
            return cached[0]
        if self.encoder.tokenizer.encode(text or "").overflowing:
            return self.encoder.encode([text])[0]
        return self._document(text)[0]

    def _label_vectors(self, labels: dict[str, str]) -> np.ndarray:
        """One prototype per label: the mean of its name, its description and each phrase of the description.

        On the labelled ticket set this scores 0.87 against 0.81 for the description alone: a description like
        "billing: invoices, payments, refunds" is a list of ways to say the same thing, and averaging them keeps
        one odd phrase from dominating.
        """
        keys = [f"{name}\x1f{description}" for name, description in labels.items()]
        with self._lock:
            found = {key: self._labels[key] for key in keys if key in self._labels}
        missing = [(key, name, labels[name]) for key, name in zip(keys, labels, strict=True) if key not in found]
        if missing:
            # Every phrase of every new label in one batch: one call, length-sorted, both cores busy.
            phrase_lists = [_label_phrases(name, description) for _, name, description in missing]
            vectors = iter(self.encoder.encode([phrase for phrases in phrase_lists for phrase in phrases]))
            with self._lock:
                for (key, _, _), phrases in zip(missing, phrase_lists, strict=True):
                    prototype = np.mean([next(vectors) for _ in phrases], axis=0)
                    found[key] = self._labels[key] = prototype / max(float(np.linalg.norm(prototype)), 1e-12)
                while len(self._labels) > _LABEL_CACHE_SIZE:
                    self._labels.popitem(last=False)
        return np.stack([found[key] for key in keys])

    # --- the Provider protocol -----------------------------------------------------------------------------------

    def generate(self, request: GenerateRequest) -> GenerateResponse:
        raise Unsupported(
            "The local provider cannot write free text: no generative model runs offline. Configure an external "
            "provider (OpenAI, Anthropic, Google or Copilot) for drafting, or use the offline rewrite styles "
            f"({', '.join(STYLES)}), summaries and classification."
        )

    def embed(self, texts: list[str]) -> EmbedResponse:
        """L2-normalised 384-d vectors of all-MiniLM-L6-v2; texts are truncated at 256 word pieces."""
        vectors = self.embed_array(texts)
        return EmbedResponse(
            vectors=vectors.tolist(), model=encoder_module.MODEL_NAME, input_tokens=self.encoder.count_tokens(texts)
        )

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """The same vectors as a float32 (n, 384) array: what the vector store and the trainer use."""
        if len(texts) == 1:
            return self._vector(texts[0])[None, :]
        return self.encoder.encode(list(texts))

    def test_connection(self) -> str:
        self.embed_array(["Switchboard self-test"])
        detect_language("This is a short self-test sentence.")
        return (
            f"Local models ready: {encoder_module.MODEL_NAME} embeddings ({encoder_module.DIMENSIONS}-d), lingua "
            "language detection, VADER sentiment, extractive summaries. Nothing leaves this server."
        )

    # --- offline analysis ---------------------------------------------------------------------------------------

    def classify(self, text: str, labels: dict[str, str]) -> tuple[str, float, dict[str, float]]:
        """Zero-shot: the label whose description is most similar to the text; softmax confidences."""
        if not labels:
            raise ValueError("classify() needs at least one label.")
        names = list(labels)
        similarities = self._label_vectors(labels) @ self._vector(text)
        weights = np.exp((similarities - similarities.max()) / ZERO_SHOT_TEMPERATURE)
        probabilities = weights / weights.sum()
        scores = {name: round(float(p), 4) for name, p in zip(names, probabilities, strict=True)}
        best = names[int(np.argmax(probabilities))]
        return best, scores[best], scores

    def sentiment(self, text: str) -> tuple[str, float]:
        return score_sentiment(text)

    def language(self, text: str) -> tuple[str, str, float]:
        return detect_language(text)

    def summarize(self, text: str, max_sentences: int = 3) -> tuple[str, tuple[str, ...]]:
        """Extractive: up to `max_sentences` sentences of the text, unchanged and in order; plus key phrases."""
        if not (text or "").strip():
            return "", ()
        _, token_states, offsets = self._document(text)
        summary = extractive_summary(text, token_states, offsets, max(1, max_sentences))
        code = detect_language(text)[0] or "en"
        return summary, keywords(text, code)

    def moderate(self, text: str) -> tuple[bool, dict[str, float]]:
        return moderate_text(text)

    def rewrite(self, text: str, *, style: str) -> tuple[str, dict[str, str]]:
        if style not in STYLES:
            raise Unsupported(f'The local provider has no rewrite style "{style}"; it offers: {", ".join(STYLES)}.')
        return rewrite_text(text, style, self._concise)

    def _concise(self, text: str) -> str:
        _, token_states, offsets = self._document(text)
        sentences = max(1, round(len(text.split()) / 60))
        return extractive_summary(text, token_states, offsets, min(sentences, 4))
