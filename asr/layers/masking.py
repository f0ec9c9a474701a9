"""Masks and padding: Keras-mask utilities and zeroing of padded frames, for sequences ``(batch, time, ...)``."""

import keras
from keras import ops

from asr.layers.lengths import sequence_mask


@keras.saving.register_keras_serializable(package="asr")
class DropMask(keras.layers.Layer):
    """Identity that drops the Keras mask (the "NonMasking" pattern), so masked RNN outputs
    can feed Flatten, Conv1D, Concatenate or Dense layers that do not take masks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, x, mask=None):
        return ops.copy(x)  # a new tensor: on TensorFlow the input object itself carries the mask

    def compute_mask(self, x, mask=None):
        return None

    def compute_output_shape(self, x_shape):
        return x_shape


@keras.saving.register_keras_serializable(package="asr")
class MaskFromValue(keras.layers.Layer):
    """The boolean ``(batch, time)`` mask of steps where any feature differs from
    ``mask_value`` (what ``keras.layers.Masking`` computes), as a tensor to pass on by hand
    to layers after ones that drop masks (e.g. Conv1D)."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def call(self, x):
        return ops.any(ops.not_equal(x, self.mask_value), axis=-1)

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape[:2], dtype="bool")

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class _MaskedPooling(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, x, mask=None):
        return None

    def compute_output_shape(self, x_shape):
        return (x_shape[0], x_shape[-1])


@keras.saving.register_keras_serializable(package="asr")
class MaskedGlobalAveragePooling1D(_MaskedPooling):
    """Mean over valid steps; a fully masked row gives zeros."""

    def call(self, x, mask=None):
        if mask is None:
            return ops.mean(x, axis=1)
        weights = ops.expand_dims(ops.cast(mask, x.dtype), -1)
        total = ops.sum(weights, axis=1)
        return ops.sum(x * weights, axis=1) / ops.where(total > 0, total, ops.ones_like(total))


@keras.saving.register_keras_serializable(package="asr")
class MaskedGlobalMaxPooling1D(_MaskedPooling):
    """Max over valid steps (Keras' GlobalMaxPooling1D ignores masks); a fully masked row gives zeros."""

    def call(self, x, mask=None):
        if mask is None:
            return ops.max(x, axis=1)
        valid = ops.expand_dims(ops.cast(mask, "bool"), -1)
        lowest = ops.min(x) - 1.0
        pooled = ops.max(ops.where(valid, x, lowest), axis=1)
        return ops.where(ops.any(valid, axis=1), pooled, ops.zeros_like(pooled))


def frame_mask(x, lengths=None, mask=None):
    """``(batch, time)`` boolean mask of valid frames of ``x`` from ``lengths`` or a Keras
    ``mask`` (one of them); None when neither is given."""
    if lengths is not None:
        return sequence_mask(lengths, ops.shape(x)[1])
    return None if mask is None else ops.cast(mask, "bool")


@keras.saving.register_keras_serializable(package="asr")
class ZeroPaddedFrames(keras.layers.Layer):
    """Sets the padded frames to zero: every frame at or beyond each sequence's length: ``layer(x, lengths)`` or
    ``layer(x, mask=mask)``. ``x`` is ``(batch, time, ...)`` of any rank. The mask is applied
    and consumed (none is passed on), so a Conv1D can follow.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, x, lengths=None, mask=None):
        valid = frame_mask(x, lengths, mask)
        if valid is None:
            return x
        valid = ops.cast(valid, x.dtype)
        return x * ops.reshape(valid, ops.shape(valid) + (1,) * (len(x.shape) - 2))

    def compute_mask(self, x, mask=None):
        return None

    def compute_output_shape(self, x_shape, lengths_shape=None):
        return x_shape


@keras.saving.register_keras_serializable(package="asr")
class ZeroPadding(ZeroPaddedFrames):
    """Deprecated name of ``ZeroPaddedFrames`` (it never added padding); kept so that models
    saved by asr 0.1 still load. Removed in the next release."""
