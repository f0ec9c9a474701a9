"""Conformer layers (Gulati et al., 2020, "Conformer: Convolution-augmented Transformer for
Speech Recognition"): self-attention with rotary positions over true lengths, and the block.

Both take ``layer(x, lengths)`` with ``x`` ``(batch, time, d_model)`` and ``lengths``
``(batch,)`` and return ``(batch, time, d_model)``. A valid frame's output never depends on
the padding: padded keys get no attention weight, the convolution module sees zeros past each
length, its BatchNorm counts valid frames only, and padded output frames are zero. Positions
are rotary (Su et al., 2021, RoFormer): relative by construction, like the paper's
Transformer-XL encoding, with no table to learn and no limit on length.
"""

import math

import keras
from keras import ops

from asr.errors import ConfigError
from asr.layers.lengths import sequence_mask
from asr.layers.normalization import SequenceBatchNorm

ROPE_BASE = 10000.0  # RoFormer's base wavelength: the slowest pair turns once in ~2 pi * 10^4 frames
MASKED_SCORE = -1e9  # a padded key's attention score: exp() of it is 0 in float32 and bfloat16
BN_MOMENTUM = 0.95  # as asr.models.blocks: statistics catch up within an epoch of a small-data run


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name}={value!r} must be a positive integer")
    return value


def _rate(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ConfigError(f"{name}={value!r} must be a rate in [0, 1)")
    return float(value)


def rotate(x, positions):
    """Rotary position encoding of ``x`` (batch, time, heads, head_dim) (head_dim even): each pair
    (i, i + head_dim/2) of a frame at position p turned by p / ROPE_BASE^(2i/head_dim)."""
    x = ops.convert_to_tensor(x)
    half = x.shape[-1] // 2
    inverse = ROPE_BASE ** (-ops.arange(0, half, dtype="float32") / half)  # (half,)
    angles = ops.expand_dims(positions, -1) * ops.expand_dims(inverse, 0)  # (time, half)
    cos = ops.cast(ops.cos(angles), x.dtype)[None, :, None, :]
    sin = ops.cast(ops.sin(angles), x.dtype)[None, :, None, :]
    first, second = x[..., :half], x[..., half:]
    return ops.concatenate([first * cos - second * sin, first * sin + second * cos], axis=-1)


def depthwise_conv(x, kernel):
    """Centred depthwise convolution over time of ``x`` (batch, time, channels) with ``kernel``
    (width, channels), zero "same" padding, as a sum of shifted copies: elementwise work that
    every backend and ONNX run fast (XLA's CPU grouped convolution took 3x as long, backward
    included)."""
    width, time = kernel.shape[0], ops.shape(x)[1]
    left = (width - 1) // 2
    padded = ops.pad(x, ((0, 0), (left, width - 1 - left), (0, 0)))
    out = padded[:, :time] * kernel[0]
    for k in range(1, width):
        out = out + padded[:, k: k + time] * kernel[k]
    return out


@keras.saving.register_keras_serializable(package="asr")
class MaskedSelfAttention(keras.layers.Layer):
    """Multi-head self-attention over each sequence's valid frames, rotary positions.

    Args:
        num_heads: attention heads; ``d_model`` (the input width) must divide into them with an
            even head size.
        dropout: dropout on the attention weights (training only).
    """

    def __init__(self, num_heads=4, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = _positive_int("num_heads", num_heads)
        self.dropout = _rate("dropout", dropout)

    def build(self, x_shape, lengths_shape=None):
        d_model = x_shape[-1]
        if d_model % self.num_heads or (d_model // self.num_heads) % 2:
            raise ConfigError(f"d_model={d_model} must split into num_heads={self.num_heads} heads of an even size")
        self.qkv = keras.layers.Dense(3 * d_model, name="qkv")
        self.qkv.build(x_shape)
        self.out = keras.layers.Dense(d_model, name="out")
        self.out.build(x_shape)
        self.weight_dropout = keras.layers.Dropout(self.dropout)

    def call(self, x, lengths=None, training=None):
        time, d_model = ops.shape(x)[1], x.shape[-1]
        head_dim = d_model // self.num_heads
        qkv = ops.reshape(self.qkv(x), (-1, time, 3, self.num_heads, head_dim))
        positions = ops.cast(ops.arange(0, time, dtype="int32"), "float32")
        query = rotate(qkv[:, :, 0], positions) * ops.cast(1.0 / math.sqrt(head_dim), x.dtype)
        key, value = rotate(qkv[:, :, 1], positions), qkv[:, :, 2]
        scores = ops.einsum("bqhd,bkhd->bhqk", query, key)
        if lengths is not None:
            valid = sequence_mask(lengths, time)[:, None, None, :]  # (batch, 1, 1, keys)
            scores = ops.where(valid, scores, ops.cast(MASKED_SCORE, scores.dtype))
        weights = ops.softmax(ops.cast(scores, "float32"), axis=-1)
        weights = self.weight_dropout(ops.cast(weights, x.dtype), training=training)
        context = ops.einsum("bhqk,bkhd->bqhd", weights, value)
        return self.out(ops.reshape(context, (-1, time, d_model)))

    def compute_output_shape(self, x_shape, lengths_shape=None):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="asr")
class ConformerBlock(keras.layers.Layer):
    """One Conformer block: half feed-forward, self-attention, convolution, half feed-forward,
    LayerNorm, each module pre-normed with a residual (the paper's macaron layout).

    Args:
        num_heads: attention heads (``MaskedSelfAttention``).
        ff_multiplier: the feed-forward modules' inner width, in multiples of ``d_model``.
        conv_kernel: the depthwise convolution's width in frames (odd: centred).
        dropout: after each module and on the attention weights.
    """

    def __init__(self, num_heads=4, ff_multiplier=4, conv_kernel=15, dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = _positive_int("num_heads", num_heads)
        self.ff_multiplier = _positive_int("ff_multiplier", ff_multiplier)
        self.conv_kernel = _positive_int("conv_kernel", conv_kernel)
        if conv_kernel % 2 == 0:
            raise ConfigError(f"conv_kernel={conv_kernel} must be odd (a centred window)")
        self.dropout = _rate("dropout", dropout)

    def _feed_forward(self, name, d_model):
        return [keras.layers.LayerNormalization(name=f"{name}_norm"),
                keras.layers.Dense(self.ff_multiplier * d_model, activation="silu", name=f"{name}_inner"),
                keras.layers.Dropout(self.dropout),
                keras.layers.Dense(d_model, name=f"{name}_out")]

    def build(self, x_shape, lengths_shape=None):
        d_model = x_shape[-1]
        inner = tuple(x_shape[:-1]) + (self.ff_multiplier * d_model,)
        self.ff1, self.ff2 = self._feed_forward("ff1", d_model), self._feed_forward("ff2", d_model)
        for module in (self.ff1, self.ff2):
            module[0].build(x_shape)
            module[1].build(x_shape)
            module[3].build(inner)
        self.attention_norm = keras.layers.LayerNormalization(name="attention_norm")
        self.attention = MaskedSelfAttention(self.num_heads, self.dropout, name="attention")
        self.conv_norm = keras.layers.LayerNormalization(name="conv_norm")
        self.pointwise_in = keras.layers.Dense(2 * d_model, name="pointwise_in")  # -> GLU -> d_model
        self.depthwise = self.add_weight(shape=(self.conv_kernel, d_model), initializer="glorot_uniform",
                                         name="depthwise_kernel")
        self.conv_bn = SequenceBatchNorm(momentum=BN_MOMENTUM, name="conv_bn")
        self.pointwise_out = keras.layers.Dense(d_model, name="pointwise_out")
        self.final_norm = keras.layers.LayerNormalization(name="final_norm")
        for layer in (self.attention_norm, self.attention, self.conv_norm, self.pointwise_in, self.final_norm):
            layer.build(x_shape)
        for layer in (self.conv_bn, self.pointwise_out):
            layer.build(x_shape)
        self.module_dropout = keras.layers.Dropout(self.dropout)

    def _run(self, module, x, training):
        for layer in module:
            x = layer(x, training=training) if isinstance(layer, keras.layers.Dropout) else layer(x)
        return self.module_dropout(x, training=training)

    def _convolution(self, x, valid, lengths, training):
        a, gate = ops.split(self.pointwise_in(self.conv_norm(x)), 2, axis=-1)
        x = a * ops.sigmoid(gate) * valid  # GLU; zeros past each length: "same" padding sees zeros only
        x = depthwise_conv(x, ops.cast(self.depthwise, x.dtype))
        x = ops.silu(self.conv_bn(x, lengths, training=training))
        return self.module_dropout(self.pointwise_out(x), training=training)

    def call(self, x, lengths=None, training=None):
        if lengths is None:
            lengths = ops.full((ops.shape(x)[0],), ops.shape(x)[1], dtype="int32")
        valid = sequence_mask(lengths, ops.shape(x)[1], dtype=x.dtype)[:, :, None]
        x = x + 0.5 * self._run(self.ff1, x, training)
        x = x + self.module_dropout(self.attention(self.attention_norm(x), lengths, training=training),
                                    training=training)
        x = x + self._convolution(x * valid, valid, lengths, training)
        x = x + 0.5 * self._run(self.ff2, x, training)
        return self.final_norm(x) * valid

    def compute_output_shape(self, x_shape, lengths_shape=None):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "ff_multiplier": self.ff_multiplier,
                "conv_kernel": self.conv_kernel, "dropout": self.dropout}
