"""Mask-aware attention pooling over time: ``(batch, time, features)`` -> ``(batch, features)``.

Both layers give padded steps exactly zero weight, return zeros (never NaN) for a fully
masked row, work for any sequence length, and consume the mask (none is passed on).
With ``return_attention=True`` they return ``(pooled, weights)``, weights ``(batch, time)``.
"""

import keras
from keras import ops

from asr.errors import ConfigError


def masked_softmax(scores, mask=None):
    """Softmax over axis 1 of ``scores`` (batch, time) where ``mask`` is True; masked steps get
    0, and a row with no valid step gets all zeros instead of NaN."""
    if mask is None:
        return ops.softmax(scores, axis=1)
    mask = ops.cast(mask, scores.dtype)
    scores = ops.where(mask > 0, scores, ops.min(scores) - 1.0)
    weights = ops.exp(scores - ops.max(scores, axis=1, keepdims=True)) * mask
    total = ops.sum(weights, axis=1, keepdims=True)
    return weights / ops.where(total > 0, total, ops.ones_like(total))


class _AttentionPooling(keras.layers.Layer):
    """Shared call: ``scores(x)`` (batch, time) -> masked softmax -> weighted sum."""

    def __init__(self, return_attention=False, **kwargs):
        super().__init__(**kwargs)
        self.return_attention = bool(return_attention)
        self.supports_masking = True

    def call(self, x, mask=None):
        weights = masked_softmax(self.scores(x), mask)
        pooled = ops.sum(x * ops.expand_dims(weights, -1), axis=1)
        return (pooled, weights) if self.return_attention else pooled

    def compute_mask(self, x, mask=None):
        return (None, None) if self.return_attention else None

    def compute_output_shape(self, x_shape):
        pooled = (x_shape[0], x_shape[-1])
        return (pooled, tuple(x_shape[:2])) if self.return_attention else pooled

    def get_config(self):
        return {**super().get_config(), "return_attention": self.return_attention}


@keras.saving.register_keras_serializable(package="asr")
class AttentionWithContext(_AttentionPooling):
    """Attention with a learned context vector (Yang et al. 2016, Hierarchical Attention Networks).

    ``u_t = tanh(W h_t + b)``, ``a_t = softmax_t(u_t . u)`` over valid steps, output
    ``sum_t a_t h_t``. ``W`` is ``(features, features)``; ``u`` is the context vector.

    Args:
        use_bias: learn ``b``.
        kernel_regularizer, bias_regularizer, context_regularizer: for ``W``, ``b``, ``u``.
        kernel_constraint, bias_constraint, context_constraint: likewise.
        return_attention: also return the weights ``(batch, time)``.
    """

    def __init__(self, use_bias=True, kernel_regularizer=None, bias_regularizer=None, context_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, context_constraint=None, return_attention=False,
                 **kwargs):
        super().__init__(return_attention=return_attention, **kwargs)
        self.use_bias = bool(use_bias)
        self.regularizers = {k: keras.regularizers.get(v) for k, v in
                             (("kernel", kernel_regularizer), ("bias", bias_regularizer),
                              ("context", context_regularizer))}
        self.constraints = {k: keras.constraints.get(v) for k, v in
                            (("kernel", kernel_constraint), ("bias", bias_constraint),
                             ("context", context_constraint))}

    def _weight(self, name, shape, initializer):
        return self.add_weight(shape=shape, initializer=initializer, name=name,
                               regularizer=self.regularizers[name], constraint=self.constraints[name])

    def build(self, x_shape):
        features = x_shape[-1]
        self.kernel = self._weight("kernel", (features, features), "glorot_uniform")
        self.bias = self._weight("bias", (features,), "zeros") if self.use_bias else None
        self.context = self._weight("context", (features,), "glorot_uniform")

    def scores(self, x):
        u = ops.matmul(x, self.kernel)
        if self.use_bias:
            u = u + self.bias
        return ops.sum(ops.tanh(u) * self.context, axis=-1)

    def get_config(self):
        config = {**super().get_config(), "use_bias": self.use_bias}
        for name, value in self.regularizers.items():
            config[f"{name}_regularizer"] = keras.regularizers.serialize(value)
        for name, value in self.constraints.items():
            config[f"{name}_constraint"] = keras.constraints.serialize(value)
        return config


@keras.saving.register_keras_serializable(package="asr")
class AttentionPooling(_AttentionPooling):
    """Additive (Bahdanau-style) attention pooling with per-position scores:
    ``score_t = v . tanh(W x_t + b)`` with ``W`` ``(features, units)``, softmax over valid steps.

    With ``units=None`` the score is ``tanh(x_t . w + b)`` (the one-layer variant).
    """

    def __init__(self, units=None, return_attention=False, **kwargs):
        super().__init__(return_attention=return_attention, **kwargs)
        if units is not None and (not isinstance(units, int) or units < 1):
            raise ConfigError(f"units={units!r} must be a positive integer or None")
        self.units = units

    def build(self, x_shape):
        hidden = self.units or 1
        self.kernel = self.add_weight(shape=(x_shape[-1], hidden), initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(hidden,), initializer="zeros", name="bias")
        self.score_vector = (self.add_weight(shape=(hidden,), initializer="glorot_uniform", name="score_vector")
                             if self.units else None)

    def scores(self, x):
        hidden = ops.tanh(ops.matmul(x, self.kernel) + self.bias)
        return ops.sum(hidden * self.score_vector, axis=-1) if self.units else hidden[..., 0]

    def get_config(self):
        return {**super().get_config(), "units": self.units}
