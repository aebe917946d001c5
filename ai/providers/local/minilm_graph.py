"""all-MiniLM-L6-v2 written as an ONNX graph from its safetensors weights, in memory: no torch, no export, no file.

The graph is BERT's forward pass spelled with standard ONNX operators (opset 17): embeddings + layer norm, then
per layer Q/K/V projections, scaled dot-product attention over the padding mask, output projection + residual +
layer norm, feed-forward with the exact erf GELU + residual + layer norm. Inputs `input_ids` and `attention_mask`
(batch, length) int64; output `hidden`, the last layer's token vectors (batch, length, 384). Pooling stays in
numpy with the caller, which also needs the token vectors themselves (summaries).

Plain operators on purpose: onnxruntime's own graph optimiser (ORT_ENABLE_ALL) fuses the GELU into BiasGelu and
runs every projection on MLAS's prepacked GEMM. Graphs written with its com.microsoft contrib operators instead
cost more CPU for one 179-word-piece text on one thread (median of 60, interleaved): 44.1 ms with Attention,
45.3 ms with MultiHeadAttention, 43.9 ms with SkipLayerNormalization, against 39.7 ms for this graph. Q, K and V
are three products rather than one fused product and a Split: the same speed, and no copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # LayerNormalization is a standard operator from 17 on
IR_VERSION = 8
MASKED_SCORE = -1e4  # added to a padded key's attention score, as BERT does: its softmax weight becomes 0


EXTERNAL_FROM = 1024  # elements: larger constants (the weights) reach onnxruntime as arrays, not inside the bytes


@dataclass(frozen=True)
class MiniLMGraph:
    """The model as serialized ONNX bytes (graph and small constants) plus its weights as named float32 arrays."""

    model: bytes
    weights: dict[str, np.ndarray]

    def session(self, options: onnxruntime.SessionOptions) -> onnxruntime.InferenceSession:
        """An onnxruntime session that owns a copy of every weight, so `self` can be dropped once it returns.

        The weights go in as external initializers rather than inside the bytes: serializing 90 MB of weights,
        which onnxruntime then parses and copies again (and its Python wrapper keeps the bytes for the session's
        lifetime), took the load's peak RSS to ~600 MB and ~1 s; this way the peak is ~275 MB and ~0.5 s.
        onnxruntime copies external initializers into the session when it is created
        (test_the_session_keeps_its_own_copy_of_the_weights proves it for the pinned version).
        """
        names = list(self.weights)
        options.add_external_initializers(
            names, [onnxruntime.OrtValue.ortvalue_from_numpy(self.weights[n]) for n in names]
        )
        session = onnxruntime.InferenceSession(self.model, options, providers=["CPUExecutionProvider"])
        # Its retry path would rebuild the session from `options`, whose initializers point at our arrays.
        session.disable_fallback()
        return session


class _GraphWriter:
    """Collects nodes and constants; every helper returns the name of the tensor it produced."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.weights: dict[str, np.ndarray] = {}

    def constant(self, name: str, value: np.ndarray) -> str:
        value = np.ascontiguousarray(value)
        if value.size < EXTERNAL_FROM:
            self.initializers.append(numpy_helper.from_array(value, name))
            return name
        # Declared in the graph with its type and shape; the data is handed to onnxruntime separately.
        tensor = TensorProto(name=name, data_type=helper.np_dtype_to_tensor_dtype(value.dtype), dims=value.shape)
        tensor.data_location = TensorProto.EXTERNAL
        tensor.external_data.append(onnx.StringStringEntryProto(key="location", value="in-memory"))
        self.initializers.append(tensor)
        self.weights[name] = value
        return name

    def op(self, op_type: str, inputs: list[str], output: str, **attributes: object) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attributes))
        return output


def build_graph(weights: dict[str, np.ndarray], config: dict) -> MiniLMGraph:
    """The BERT encoder described by a Hugging Face `config.json` and its (safetensors) weights."""
    g = _GraphWriter()
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    eps = float(config["layer_norm_eps"])
    x = _embeddings(g, weights, eps)
    key_bias = _key_bias(g)
    g.constant("heads_shape", np.array([0, 0, heads, hidden // heads], dtype=np.int64))
    g.constant("hidden_shape", np.array([0, 0, hidden], dtype=np.int64))
    for index in range(int(config["num_hidden_layers"])):
        x = _layer(g, weights, f"encoder.layer.{index}.", x, key_bias, scale=1.0 / np.sqrt(hidden // heads), eps=eps)
    g.op("Identity", [x], "hidden")
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        inputs=[
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "length"]),
        ],
        outputs=[helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", hidden])],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="switchboard")
    model.ir_version = IR_VERSION
    return MiniLMGraph(model=model.SerializeToString(), weights=g.weights)


def _embeddings(g: _GraphWriter, w: dict[str, np.ndarray], eps: float) -> str:
    """Word + position embeddings, then layer norm. Token type is always 0: folded into the position table."""
    word = g.constant("word_embeddings", w["embeddings.word_embeddings.weight"].astype(np.float32))
    position_table = w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    position = g.constant("position_embeddings", position_table.astype(np.float32))
    zero, one, two = (g.constant(f"int_{n}", np.array([n], dtype=np.int64)) for n in (0, 1, 2))
    length = g.op("Slice", [g.op("Shape", ["input_ids"], "input_shape"), one, two, zero], "length")
    positions = g.op("Slice", [position, zero, length, zero], "positions")
    summed = g.op("Add", [g.op("Gather", [word, "input_ids"], "words"), positions], "embedded")
    gamma = g.constant("embeddings_ln_gamma", w["embeddings.LayerNorm.weight"].astype(np.float32))
    beta = g.constant("embeddings_ln_beta", w["embeddings.LayerNorm.bias"].astype(np.float32))
    return g.op("LayerNormalization", [summed, gamma, beta], "layer_input_0", axis=-1, epsilon=eps)


def _key_bias(g: _GraphWriter) -> str:
    """(batch, 1, 1, length): 0 for a real token, MASKED_SCORE for padding, added to every head's scores."""
    mask = g.op("Cast", ["attention_mask"], "mask_float", to=TensorProto.FLOAT)
    padding = g.op("Sub", [g.constant("float_one", np.array(1.0, dtype=np.float32)), mask], "padding")
    bias = g.op("Mul", [padding, g.constant("masked_score", np.array(MASKED_SCORE, dtype=np.float32))], "mask_bias")
    return g.op("Unsqueeze", [bias, g.constant("axes_1_2", np.array([1, 2], dtype=np.int64))], "key_bias")


def _layer(g: _GraphWriter, w: dict[str, np.ndarray], p: str, x: str, key_bias: str, scale: float, eps: float) -> str:
    """One encoder layer; tensor names are prefixed with the weights' own prefix so the graph reads like them."""

    def linear(source: str, name: str, factor: float = 1.0) -> str:
        # torch Linear stores (out, in); MatMul wants (in, out). The attention scale is folded into W_q and b_q.
        weight = g.constant(f"{p}{name}.w", (w[f"{p}{name}.weight"].T * np.float32(factor)).astype(np.float32))
        bias = g.constant(f"{p}{name}.b", (w[f"{p}{name}.bias"] * np.float32(factor)).astype(np.float32))
        return g.op("Add", [g.op("MatMul", [source, weight], f"{p}{name}.product"), bias], f"{p}{name}.out")

    def layer_norm(source: str, name: str) -> str:
        gamma = g.constant(f"{p}{name}.gamma", w[f"{p}{name}.weight"].astype(np.float32))
        beta = g.constant(f"{p}{name}.beta", w[f"{p}{name}.bias"].astype(np.float32))
        return g.op("LayerNormalization", [source, gamma, beta], f"{p}{name}.out", axis=-1, epsilon=eps)

    def split_heads(source: str, perm: list[int]) -> str:
        # (batch, length, hidden) -> (batch, heads, length, head_dim), or (batch, heads, head_dim, length) for keys
        return g.op(
            "Transpose", [g.op("Reshape", [source, "heads_shape"], f"{source}.heads")], f"{source}.t", perm=perm
        )

    query = split_heads(linear(x, "attention.self.query", factor=scale), [0, 2, 1, 3])
    key = split_heads(linear(x, "attention.self.key"), [0, 2, 3, 1])
    value = split_heads(linear(x, "attention.self.value"), [0, 2, 1, 3])
    scores = g.op("Add", [g.op("MatMul", [query, key], f"{p}scores"), key_bias], f"{p}masked_scores")
    probabilities = g.op("Softmax", [scores], f"{p}probabilities", axis=-1)
    context = g.op(
        "Transpose", [g.op("MatMul", [probabilities, value], f"{p}context")], f"{p}context.t", perm=[0, 2, 1, 3]
    )
    context = g.op("Reshape", [context, "hidden_shape"], f"{p}context.merged")
    attended = g.op("Add", [linear(context, "attention.output.dense"), x], f"{p}attention.residual")
    h = layer_norm(attended, "attention.output.LayerNorm")
    up = linear(h, "intermediate.dense")
    # BERT's exact GELU, x·½(1 + erf(x/√2)); onnxruntime fuses this chain and the bias Add into one BiasGelu.
    erf = g.op(
        "Erf",
        [g.op("Div", [up, g.constant(f"{p}sqrt2", np.array(np.sqrt(2.0), np.float32))], f"{p}gelu.d")],
        f"{p}gelu.erf",
    )
    gelu = g.op(
        "Mul",
        [
            g.op("Mul", [up, g.op("Add", [erf, "float_one"], f"{p}gelu.a")], f"{p}gelu.m"),
            g.constant(f"{p}half", np.array(0.5, np.float32)),
        ],
        f"{p}gelu.out",
    )
    down = g.op("Add", [linear(gelu, "output.dense"), h], f"{p}output.residual")
    return layer_norm(down, "output.LayerNorm")
