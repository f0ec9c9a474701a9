"""Sequence-length bookkeeping in the graph: the ``ConvOutputLength`` layer and length masks.

``conv_output_length`` (``asr.frames``, Keras-free) works on Python ints, NumPy arrays and
backend tensors, so the same formula serves data filtering, the ONNX runtime path and this layer.
"""

import keras
from keras import ops

from asr.frames import PADDINGS, conv_output_length  # noqa: F401  (re-exported: the in-graph layer's formula)


def sequence_mask(lengths, max_length, dtype="bool"):
    """``(batch, max_length)`` mask, True (or 1) where ``t < lengths[b]``."""
    steps = ops.arange(0, max_length, dtype="int32")  # (start, stop): jax2onnx traces a bare arange(n) badly
    mask = ops.expand_dims(steps, 0) < ops.expand_dims(ops.cast(lengths, "int32"), 1)
    return mask if dtype == "bool" else ops.cast(mask, dtype)


def reverse_within_lengths(x, lengths):
    """Reverse each sequence of ``x`` (batch, time, ...) inside its own length; padding stays put.

    Step ``t < L`` takes step ``L - 1 - t``; steps ``t >= L`` are unchanged. Its own inverse.
    """
    time = ops.shape(x)[1]
    steps = ops.expand_dims(ops.arange(time, dtype="int32"), 0)
    lengths = ops.expand_dims(ops.cast(lengths, "int32"), 1)
    index = ops.where(steps < lengths, lengths - 1 - steps, steps)
    index = ops.reshape(index, ops.shape(index) + (1,) * (len(x.shape) - 2))
    return ops.take_along_axis(x, ops.cast(index, "int32"), axis=1)


@keras.saving.register_keras_serializable(package="asr")
class ConvOutputLength(keras.layers.Layer):
    """Maps input lengths ``(batch,)`` to the lengths after a convolution along time."""

    def __init__(self, kernel_size, strides=1, padding="valid", dilation_rate=1, **kwargs):
        super().__init__(**kwargs)
        conv_output_length(1, kernel_size, strides, padding, dilation_rate)  # validates
        self.kernel_size, self.strides = int(kernel_size), int(strides)
        self.padding, self.dilation_rate = padding, int(dilation_rate)

    def call(self, lengths):
        lengths = ops.cast(lengths, "int32")
        return conv_output_length(lengths, self.kernel_size, self.strides, self.padding, self.dilation_rate)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, lengths):
        return keras.KerasTensor(lengths.shape, dtype="int32")

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "dilation_rate": self.dilation_rate}
