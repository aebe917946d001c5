"""The local provider's embeddings: an onnxruntime all-MiniLM-L6-v2 that must stay numerically the model it claims
to be."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from ai.providers.base import EmbedResponse, GenerateRequest, Message, Unsupported
from ai.providers.local import LocalProvider, get_local_provider
from ai.providers.local.encoder import (
    DIMENSIONS,
    MAX_BATCH_TOKENS,
    MAX_TOKENS,
    MODEL_NAME,
    _session_options,
    _slices,
    model_dir,
)
from ai.providers.local.minilm_graph import build_graph

DATA = Path(__file__).parent / "data"
# Computed by the numpy forward pass this encoder replaced (which matched sentence-transformers to 1e-4), stored
# as float16: `labelled` = the unit vectors of tickets_labelled.jsonl in file order, `long_text_windows` = the
# mean of LONG_TEXT's token vectors over each of its four 256-word-piece windows (document_states).
REFERENCE = DATA / "minilm_reference_vectors.npz"
LONG_TEXT = " ".join(
    f"Step {i}: the agent opens ticket {i * 7} and the export to CSV times out after {i} seconds." for i in range(40)
)


@pytest.fixture(scope="module")
def provider() -> LocalProvider:
    return get_local_provider()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_pinned_reference_values_of_a_known_sentence(provider):
    # sentence-transformers' all-MiniLM-L6-v2 gives 0.0677, 0.0635, 0.0487, 0.0793, 0.0374 for this sentence;
    # pinned here to 1e-4 so any change to tokenisation, weights loading or the forward pass shows.
    vector = provider.embed_array(["This is an example sentence"])[0]
    expected = [0.06765689, 0.06349587, 0.04871308, 0.07930498, 0.03744809]
    np.testing.assert_allclose(vector[:5], expected, atol=1e-4)


def test_vectors_are_unit_length_with_384_dimensions(provider):
    response = provider.embed(["Where is my parcel?", "Refund please", "x"])
    assert isinstance(response, EmbedResponse)
    assert response.model == MODEL_NAME
    vectors = np.asarray(response.vectors)
    assert vectors.shape == (3, DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert response.input_tokens > 6  # word pieces plus [CLS]/[SEP] per text


def test_identical_texts_have_cosine_one(provider):
    a, b = provider.embed_array(["The invoice total is wrong", "The invoice total is wrong"])
    assert cosine(a, b) == pytest.approx(1.0, abs=1e-6)


def test_a_batch_gives_the_same_vectors_as_one_text_at_a_time(provider):
    texts = ["short", "A much longer sentence about exporting every ticket of last month to CSV.", "Hallo Welt"]
    batch = provider.encoder.encode(texts)
    single = np.stack([provider.encoder.encode([text])[0] for text in texts])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_meaning_not_words_decides_similarity(provider):
    login, reset, invoice = provider.embed_array(
        ["I cannot log in", "password reset not working", "invoice amount wrong"]
    )
    assert cosine(login, reset) > 0.4
    assert cosine(login, invoice) < 0.2
    assert cosine(login, reset) > cosine(login, invoice) + 0.3


def test_texts_are_truncated_at_256_word_pieces(provider):
    long_text = " ".join(["The export to CSV fails with a timeout."] * 60)
    assert provider.encoder.tokenizer.encode(long_text).overflowing  # more than MAX_TOKENS word pieces
    assert provider.encoder.count_tokens([long_text]) == MAX_TOKENS
    extended = long_text + " Completely different words about shipping parcels at the very end."
    a, b = provider.encoder.encode([long_text, extended])
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_empty_input_list_gives_no_vectors(provider):
    response = provider.embed([])
    assert response.vectors == []
    assert provider.encoder.encode([]).shape == (0, DIMENSIONS)


def test_models_load_lazily_and_once_per_process():
    fresh = LocalProvider()
    assert fresh._encoder is None  # constructing (or importing) loads nothing
    assert get_local_provider() is get_local_provider()


def test_generate_is_unsupported_with_a_readable_message(provider):
    with pytest.raises(Unsupported, match="no generative model runs offline"):
        provider.generate(GenerateRequest(messages=(Message(role="user", content="Write a reply"),)))


def test_provider_identity_and_connection_check(provider):
    assert (provider.name, provider.DEFAULT_MODEL, provider.is_external) == ("local", "switchboard-local-1", False)
    assert "all-MiniLM-L6-v2" in provider.test_connection()


def test_one_ticket_analysed_three_ways_costs_one_forward_pass(monkeypatch):
    provider = LocalProvider()
    encoded: list[list[str]] = []
    documents = []
    real_encode, real_document = provider.encoder.encode, provider.encoder.document_states
    monkeypatch.setattr(provider.encoder, "encode", lambda texts: encoded.append(texts) or real_encode(texts))
    monkeypatch.setattr(provider.encoder, "document_states", lambda t: documents.append(t) or real_document(t))
    ticket = "The export fails with error 504. It should download a CSV. We use Chrome 124 on Windows 11."
    labels = {"bug": "something is broken", "billing": "invoices and payments"}
    provider.embed([ticket])
    provider.classify(ticket, labels)
    provider.summarize(ticket, max_sentences=1)
    provider.classify(ticket, labels)
    assert documents == [ticket]  # the ticket went through the model once
    assert len(encoded) == 1  # all label phrases in one batch, once: prototypes are cached


def test_a_long_text_is_embedded_from_its_first_256_word_pieces_only(provider):
    long_text = " ".join(["Customers report that the mobile app crashes on start."] * 50)
    np.testing.assert_allclose(provider.embed_array([long_text])[0], provider.encoder.encode([long_text])[0], atol=1e-6)
    summary, _ = provider.summarize(long_text + " Finally, a different closing sentence about invoices.", 2)
    assert summary.startswith("Customers report")


def test_vectors_match_the_reference_implementation_on_every_labelled_ticket(provider):
    texts = [json.loads(line)["text"] for line in (DATA / "tickets_labelled.jsonl").read_text().splitlines()]
    reference = np.load(REFERENCE)["labelled"].astype(np.float32)
    vectors = provider.encoder.encode(texts)
    cosines = np.einsum("ij,ij->i", vectors, reference) / np.linalg.norm(reference, axis=1)
    assert cosines.min() >= 0.99999, f"text {cosines.argmin()} has cosine {cosines.min()}"
    np.testing.assert_allclose(vectors, reference, atol=1e-3)  # float16 storage: ~6e-5 is rounding


def test_token_vectors_of_every_window_of_a_long_text_match_the_reference(provider):
    encoding = provider.encoder.tokenizer.encode(LONG_TEXT)
    lengths = [len(window.ids) for window in (encoding, *encoding.overflowing)]
    assert lengths == [MAX_TOKENS, MAX_TOKENS, MAX_TOKENS, 40]  # one pass, padded to 256, with a padded window
    vector, tokens, offsets = provider.encoder.document_states(LONG_TEXT)
    assert tokens.shape == (sum(lengths), DIMENSIONS) and offsets.shape == (sum(lengths), 2)
    bounds = np.cumsum([0, *lengths])
    windows = np.stack([tokens[start:end].mean(axis=0) for start, end in itertools.pairwise(bounds)])
    reference = np.load(REFERENCE)["long_text_windows"].astype(np.float32)
    cosines = (
        np.einsum("ij,ij->i", windows, reference) / np.linalg.norm(windows, axis=1) / np.linalg.norm(reference, axis=1)
    )
    assert cosines.min() >= 0.99999
    np.testing.assert_allclose(vector, provider.encoder.encode([LONG_TEXT])[0], atol=1e-6)


def test_batches_are_capped_by_texts_and_by_padded_word_pieces():
    lengths = [12] * 70 + [40] * 30 + [180] * 5 + [256] * 3 + [MAX_BATCH_TOKENS + 50]
    order = np.argsort(lengths, kind="stable")
    slices = _slices(order, lengths, batch_size=32)
    assert [i for s in slices for i in s] == order.tolist()  # every text once, shortest first
    assert all(len(s) <= 32 and (len(s) == 1 or len(s) * lengths[s[-1]] <= MAX_BATCH_TOKENS) for s in slices)
    for current, following in itertools.pairwise(slices):  # each run is as large as the caps allow
        assert len(current) == 32 or (len(current) + 1) * lengths[following[0]] > MAX_BATCH_TOKENS
    assert slices[-1] == [len(lengths) - 1]  # a text longer than the cap runs alone


def test_a_batch_of_long_texts_gives_the_same_vectors_as_one_text_at_a_time(provider):
    texts = [f"Ticket {n}: " + "the export to CSV fails again after the update. " * (5 + 6 * n) for n in range(12)]
    batch = provider.encoder.encode(texts)
    single = np.stack([provider.encoder.encode([text])[0] for text in texts])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_the_session_runs_on_at_most_two_threads_that_do_not_spin():
    options = _session_options()
    assert options.intra_op_num_threads == max(1, min(2, len(os.sched_getaffinity(0))))
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_the_session_keeps_its_own_copy_of_the_weights():
    """The encoder drops its numpy weights once the session exists: onnxruntime must not read them afterwards."""
    directory = model_dir()
    graph = build_graph(
        load_file(str(directory / "model.safetensors")), json.loads((directory / "config.json").read_text())
    )
    assert len(graph.model) < 1_000_000  # the weights are not serialized into the bytes
    session = graph.session(_session_options())
    inputs = {"input_ids": np.array([[101, 7592, 2088, 102]]), "attention_mask": np.ones((1, 4), dtype=np.int64)}
    (before,) = session.run(None, inputs)
    for array in graph.weights.values():
        array[...] = 0.0
    (after,) = session.run(None, inputs)
    np.testing.assert_array_equal(before, after)
