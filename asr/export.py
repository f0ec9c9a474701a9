"""ONNX export of an acoustic model: one self-contained ``.onnx`` file for ONNX Runtime.

    asr export runs/librispeech_mini/model.keras model.onnx
    asr transcribe model.onnx a.wav          # onnxruntime + NumPy features: no Keras at all

The graph takes ``features`` ``(batch, time, n_features)`` float32 (raw features: the model's
normalisation is inside the graph) and ``feature_lengths`` ``(batch,)`` int32, both with
dynamic batch and time, and returns ``logits`` ``(batch, time', vocab_size)`` and
``logit_lengths`` ``(batch,)``. Everything needed around the graph travels in its metadata
(key ``asr``, JSON): vocabulary, feature configuration, normalisation statistics and the
``TimeReduction`` list that gives ``time'`` without running the graph.

Export runs on the TensorFlow backend through tf2onnx (the JAX and torch exporters did not
give a correct graph of the recurrent layers with dynamic shapes), so under another backend it
runs in a subprocess. Each ``asr.layers.GRU`` becomes ONNX's own ``GRU`` operator (one per
layer, both directions, ``sequence_lens`` from the true lengths) instead of the per-step
``Loop`` tf2onnx makes of Keras' recurrence: ONNX Runtime's GRU kernel ran the recipe's BiGRU
192 x 4 6.0x faster at batch 1 and 2.9x at batch 16 (10-second inputs, 2 CPU cores,
``bench/results/onnx_speed.json``); the shipped model's 483 test hypotheses equal Keras'.
"""

import json
import logging
import os
import subprocess
import sys

import numpy as np

from asr.errors import AsrError, ConfigError

ONNX_OPSET = 17  # onnxruntime >= 1.13 and tf2onnx 1.17 both support it; GRU/Scan/Loop ops are there since 11
WEIGHT_FORMATS = ("float32", "float16")
RECURRENCES = ("gru", "loop")  # ONNX's GRU operator, or the per-step Loop tf2onnx makes of Keras' GRU
# Tensors this large or larger are stored as float16 with weights="float16": the weight
# matrices (>= 10^4 entries here); biases and normalisation statistics stay float32.
FLOAT16_MIN_ELEMENTS = 1024
METADATA_KEY = "asr"
FORMAT_VERSION = 1


class ExportError(AsrError):
    """The model could not be exported."""


def model_metadata(model):
    """The JSON-able description a runtime needs beside the graph."""
    import keras

    normalize = model.get_layer("normalize")
    return {"format_version": FORMAT_VERSION, "architecture": model.architecture, "params": model.params,
            "vocabulary": model.vocabulary.get_config(), "feature_config": model.feature_config.to_dict(),
            "normalization": {"mean": keras.ops.convert_to_numpy(normalize.mean).tolist(),
                              "std": keras.ops.convert_to_numpy(normalize.std).tolist(),
                              "per_utterance": normalize.per_utterance},
            "reductions": [r.to_dict() for r in model.reductions]}


def export_onnx(model_path, onnx_path, opset=ONNX_OPSET, overwrite=False, weights="float32", recurrence="gru"):
    """Export the ``.keras`` model at ``model_path`` (or a shipped model's, by name) to
    ``onnx_path``; returns ``onnx_path``. An existing ``onnx_path`` is refused (``ConfigError``)
    unless ``overwrite``; it is written atomically (whole or not at all). ``weights="float16"``
    stores the weight matrices as float16, cast to float32 when the session loads (half the file;
    the arithmetic stays float32, so logits move by float16 rounding of the weights only: compare
    the text).
    ``recurrence="loop"`` keeps tf2onnx's per-step ``Loop`` for the GRU layers (slower; for a
    runtime without ONNX's ``GRU`` operator).

    Under a backend other than TensorFlow the export runs in a subprocess with
    ``KERAS_BACKEND=tensorflow`` (needs ``pip install "keras-asr[export]"``).
    """
    from asr.pretrained.catalog import not_found_hint, resolve_model

    model_path, onnx_path = resolve_model(model_path, purpose="weights"), os.fspath(onnx_path)
    if weights not in WEIGHT_FORMATS:
        raise ConfigError(f"weights {weights!r} must be one of {WEIGHT_FORMATS}")
    if recurrence not in RECURRENCES:
        raise ConfigError(f"recurrence {recurrence!r} must be one of {RECURRENCES}")
    if not os.path.isfile(model_path):
        raise FileNotFoundError(f"model file not found: {model_path!r}{not_found_hint(model_path)}")
    if os.path.lexists(onnx_path) and not overwrite:
        raise ConfigError(f"{onnx_path!r} exists: pass overwrite=True (asr export --overwrite) to replace it")
    import keras

    if keras.backend.backend() == "tensorflow":
        return _export_here(model_path, onnx_path, opset, weights, recurrence)
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run([sys.executable, "-m", "asr.export", model_path, onnx_path, str(opset), weights,
                           recurrence], env=env, capture_output=True, text=True)
    if done.returncode:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise ExportError(f"exporting {model_path!r} on the TensorFlow backend failed: "
                          f"{lines[-1] if lines else 'exit ' + str(done.returncode)}")
    return onnx_path


def store_weights_float16(graph, min_elements=FLOAT16_MIN_ELEMENTS):
    """Rewrite ``graph`` (an ONNX ``GraphProto``) so that every float32 initializer of at least
    ``min_elements`` entries is stored as float16 and cast back to float32 by a ``Cast`` node
    at the top of the graph, under its old name (nodes and loop bodies that read it are
    unchanged; ONNX Runtime folds the casts when the session loads). Returns the names."""
    from onnx import TensorProto, helper, numpy_helper

    stored, casts = [], []
    for tensor in graph.initializer:
        if tensor.data_type != TensorProto.FLOAT or int(np.prod(tensor.dims)) < min_elements:
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float16), tensor.name + "_float16")
        tensor.CopyFrom(half)
        casts.append(helper.make_node("Cast", [half.name], [half.name[: -len("_float16")]], to=TensorProto.FLOAT,
                                      name=half.name + "_cast"))
        stored.append(casts[-1].output[0])
    nodes = [*casts, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    return stored


def _gru_to_onnx(ctx, node, name, args):
    """tf2onnx handler: the GRU placeholder (``asr.layers.gru_kernels.tf_onnx_gru``; inputs ``x``
    (batch, time, F), ``lengths``, then per direction Keras' kernel (F, 3U), recurrent kernel
    (U, 3U) and bias (2, 3U)) -> ONNX ``GRU`` on (time, batch, F) with ``W`` (D, 3U, F), ``R``
    (D, 3U, U), ``B`` (D, 6U): the gates keep Keras' ``[z, r, h]`` order; out (batch, time, D*U)."""
    from onnx import TensorProto
    from tf2onnx import utils
    from tf2onnx.graph_builder import GraphBuilder

    builder = GraphBuilder(ctx)
    x, lengths, *weights = node.input
    directions, units = len(weights) // 3, ctx.get_shape(weights[1])[0]

    def stacked(tensors, reshape):
        parts = [builder.make_unsqueeze({"data": reshape(t), "axes": [0]}) for t in tensors]
        return parts[0] if directions == 1 else ctx.make_node("Concat", parts, attr={"axis": 0}).output[0]

    def transposed(tensor):
        return ctx.make_node("Transpose", [tensor], attr={"perm": [1, 0]}).output[0]

    flat = ctx.make_const(utils.make_name("flat"), np.array([-1], np.int64)).output[0]
    biases = stacked(weights[2::3], lambda t: ctx.make_node("Reshape", [t, flat]).output[0])
    time_major = ctx.make_node("Transpose", [x], attr={"perm": [1, 0, 2]}).output[0]
    sequence_lens = ctx.make_node("Cast", [lengths], attr={"to": TensorProto.INT32}).output[0]
    gru = ctx.make_node("GRU", [time_major, stacked(weights[0::3], transposed), stacked(weights[1::3], transposed),
                                biases, sequence_lens],
                        attr={"hidden_size": units, "linear_before_reset": 1,
                              "direction": "forward" if directions == 1 else "bidirectional"}, output_count=2)
    batch_major = ctx.make_node("Transpose", [gru.output[0]], attr={"perm": [2, 0, 1, 3]}).output[0]  # (B, T, D, U)
    shape = ctx.make_const(utils.make_name("shape"), np.array([0, 0, -1], np.int64)).output[0]
    outputs, dtypes = node.output, [ctx.get_dtype(node.output[0])]
    ctx.remove_node(node.name)
    ctx.make_node("Reshape", [batch_major, shape], outputs=outputs, dtypes=dtypes)


def _export_here(model_path, onnx_path, opset, weights="float32", recurrence="gru"):
    try:
        import tensorflow as tf
        import tf2onnx
    except ImportError as error:
        raise ConfigError(f"ONNX export needs TensorFlow and tf2onnx ({error}): "
                          "pip install \"keras-asr[export]\"") from None
    from asr import files
    from asr.layers import GRU
    from asr.models import load_model

    model = load_model(model_path, compile=False)
    if recurrence == "gru":  # the recurrences as ONNX GRU operators
        for layer in model._flatten_layers(include_self=False):
            if isinstance(layer, GRU):
                layer.implementation = "onnx"
    n_features = model.feature_config.n_features
    signature = (tf.TensorSpec((None, None, n_features), tf.float32, name="features"),
                 tf.TensorSpec((None,), tf.int32, name="feature_lengths"))

    @tf.function(input_signature=signature)
    def forward(features, feature_lengths):
        logits = model({"features": features, "feature_lengths": feature_lengths}, training=False)
        return logits, tf.cast(model.output_lengths(feature_lengths), tf.int32)

    handlers = {"PyFuncStateless": (_gru_to_onnx, [])}  # tf.numpy_function: only the GRU placeholder
    # TensorFlow cannot infer the placeholder's shape (the handler knows it): not worth a warning
    logging.getLogger("tf2onnx.shape_inference").setLevel(logging.ERROR)
    proto, _ = tf2onnx.convert.from_function(forward, input_signature=signature, opset=opset,
                                             custom_op_handlers=handlers)
    ranks = {len(o.type.tensor_type.shape.dim): o.name for o in proto.graph.output}
    metadata = {**model_metadata(model), "inputs": ["features", "feature_lengths"],
                "outputs": {"logits": ranks[3], "logit_lengths": ranks[1]}}
    if weights == "float16":
        metadata["weights"] = {"float16": store_weights_float16(proto.graph)}
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    files.write_bytes_atomic(onnx_path, proto.SerializeToString())
    return onnx_path


if __name__ == "__main__":  # the subprocess of export_onnx: MODEL ONNX OPSET WEIGHTS RECURRENCE
    _export_here(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
