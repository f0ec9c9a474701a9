"""Length-aware (bi)directional GRU with per-backend fast paths behind one Keras API.

Inputs are right-padded ``(batch, time, features)`` plus ``lengths`` ``(batch,)`` (or a
Keras mask, converted to lengths). No mask ever reaches the recurrent kernel, so the fast
paths stay on: the backward direction runs on each sequence reversed *within its own
length*, so its valid outputs never see padding; the forward direction's valid outputs
precede the padding anyway. Outputs at padded steps are zero.

Weights are two ``keras.layers.GRU`` sublayers (``forward``, ``backward``) with Keras'
layout (``reset_after=True``, gates ``[z, r, h]``): a model trained under one backend
reloads under any other. ``implementation`` picks how they are run:

* ``"keras"``: the Keras GRU itself (portable; cuDNN on TensorFlow GPUs).
* ``"hoisted"``: JAX only: one ``lax.scan`` per direction over input projections hoisted
  into one matmul, with a hand-written backward pass whose recurrent-kernel gradient is one
  matmul over all steps (``asr.layers.gru_kernels.jax_gru_hoisted``).
* ``"fused"``: JAX only: both directions in one ``lax.scan``, the input projections of all
  time steps hoisted into one matmul (``asr.layers.gru_kernels.jax_gru``).
* ``"cudnn"``: torch only: ``torch._VF.gru`` (cuDNN on GPU, ATen's native loop on CPU).
* ``"onnx"``: TensorFlow, for ``asr export`` only: a placeholder that becomes ONNX's own
  ``GRU`` operator in the exported graph (``asr.layers.gru_kernels.tf_onnx_gru``).
* ``"auto"`` (default): ``cudnn`` on torch (on CPU too: 4.9x faster per training step than
  Keras' torch GRU, measured on 2 CPU cores), ``fused`` on JAX when it runs on a GPU,
  ``hoisted`` on JAX elsewhere (a training step of the LibriSpeech recipe's model, batch 8 x
  12.8 s: 0.97 s against 1.18 s with Keras' GRU on 2 CPU cores, 0.83x,
  ``bench/results/recipe_step_time_gru.json``; on that CPU, XLA runs two separate scans faster
  than one fused one) and ``keras`` on TensorFlow.
"""

import keras
from keras import ops

from asr.errors import ConfigError
from asr.keras_backend import jax_platform
from asr.layers.lengths import reverse_within_lengths, sequence_mask

IMPLEMENTATIONS = ("auto", "keras", "hoisted", "fused", "cudnn", "onnx")
_BACKEND_OF = {"hoisted": "jax", "fused": "jax", "cudnn": "torch", "onnx": "tensorflow"}  # the fast paths


def resolve_implementation(implementation):
    if implementation not in IMPLEMENTATIONS:
        raise ConfigError(f"implementation={implementation!r} must be one of {IMPLEMENTATIONS}")
    backend = keras.backend.backend()
    if implementation == "auto":
        if backend == "jax":
            return "fused" if jax_platform() == "gpu" else "hoisted"
        return "cudnn" if backend == "torch" else "keras"
    if implementation != "keras" and _BACKEND_OF[implementation] != backend:
        raise ConfigError(f"implementation={implementation!r} is not available on the {backend!r} backend")
    return implementation


def last_valid_step(outputs, lengths):
    """``outputs[b, lengths[b] - 1]`` (zeros for empty sequences): ``(batch, units)``."""
    index = ops.maximum(ops.cast(lengths, "int32") - 1, 0)
    picked = ops.take_along_axis(outputs, ops.reshape(index, (-1, 1, 1)), axis=1)[:, 0]
    return picked * ops.cast(ops.expand_dims(lengths > 0, 1), picked.dtype)


@keras.saving.register_keras_serializable(package="asr")
class GRU(keras.layers.Layer):
    """GRU over right-padded sequences with true lengths; optionally bidirectional.

    Args:
        units: hidden size per direction.
        bidirectional: also run a backward GRU and concatenate (output ``2 * units``).
        return_sequences: ``(batch, time, units*)`` if True, else the last valid state
            ``(batch, units*)`` (for the backward direction: its state after the first frame).
        implementation: ``auto`` | ``keras`` | ``hoisted`` or ``fused`` (JAX) | ``cudnn`` (torch).
        kernel_regularizer, recurrent_regularizer: passed to both Keras GRUs.

    Call: ``layer(x, lengths=None, mask=None)``.
    """

    def __init__(self, units, bidirectional=False, return_sequences=True, implementation="auto",
                 kernel_regularizer=None, recurrent_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ConfigError(f"units={units!r} must be a positive integer")
        resolve_implementation(implementation)  # validates early
        self.units, self.bidirectional = units, bool(bidirectional)
        self.return_sequences, self.implementation = bool(return_sequences), implementation
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.supports_masking = True
        directions = ("forward", "backward") if self.bidirectional else ("forward",)
        self.cells = [
            keras.layers.GRU(units, return_sequences=True, reset_after=True, name=name, dtype=self.dtype_policy,
                             kernel_regularizer=self.kernel_regularizer,
                             recurrent_regularizer=self.recurrent_regularizer)
            for name in directions
        ]

    def build(self, x_shape, lengths_shape=None):
        for gru in self.cells:
            gru.build(x_shape)

    def _run_keras(self, x, lengths):
        outputs = [self.cells[0](x)]
        if self.bidirectional:
            reversed_x = reverse_within_lengths(x, lengths)
            outputs.append(reverse_within_lengths(self.cells[1](reversed_x), lengths))
        return outputs

    def _weights(self):
        return [(gru.cell.kernel, gru.cell.recurrent_kernel, gru.cell.bias) for gru in self.cells]

    def call(self, x, lengths=None, mask=None):
        x = ops.cast(x, self.compute_dtype)
        if lengths is None:
            lengths = (ops.sum(ops.cast(mask, "int32"), axis=1) if mask is not None
                       else ops.full((ops.shape(x)[0],), ops.shape(x)[1], dtype="int32"))
        lengths = ops.cast(lengths, "int32")
        implementation = resolve_implementation(self.implementation)
        if implementation == "keras":
            outputs = self._run_keras(x, lengths)
        else:
            from asr.layers import gru_kernels

            kernel = {"hoisted": gru_kernels.jax_gru_hoisted, "fused": gru_kernels.jax_gru,
                      "cudnn": gru_kernels.torch_gru, "onnx": gru_kernels.tf_onnx_gru}[implementation]
            outputs = kernel(x, lengths, self._weights(), self.compute_dtype)
        if self.return_sequences:
            y = ops.concatenate(outputs, axis=-1) if self.bidirectional else outputs[0]
            return y * sequence_mask(lengths, ops.shape(y)[1], dtype=y.dtype)[:, :, None]
        last = [last_valid_step(outputs[0], lengths)]
        if self.bidirectional:
            last.append(outputs[1][:, 0] * ops.cast(ops.expand_dims(lengths > 0, 1), x.dtype))
        return ops.concatenate(last, axis=-1) if self.bidirectional else last[0]

    def compute_mask(self, x, mask=None):  # Keras calls compute_mask(inputs, previous_mask)
        return mask if self.return_sequences else None

    def compute_output_shape(self, x_shape, lengths_shape=None):
        width = self.units * (2 if self.bidirectional else 1)
        if self.return_sequences:
            return tuple(x_shape[:2]) + (width,)
        return (x_shape[0], width)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "bidirectional": self.bidirectional,
                "return_sequences": self.return_sequences, "implementation": self.implementation,
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": keras.regularizers.serialize(self.recurrent_regularizer)}
