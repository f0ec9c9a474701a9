"""SpecAugment (Park et al. 2019) as a Keras layer, active only in training.

Masks bands of (normalised) features with 0, the training mean: ``freq_masks`` bands of up to
``freq_mask_width`` feature bins, and ``time_masks`` spans of up to ``time_mask_ratio`` of each
utterance's own length (adaptive time masks, Park et al. 2020), placed inside its valid frames.
"""

import keras
from keras import ops

from asr.errors import ConfigError


@keras.saving.register_keras_serializable(package="asr")
class SpecAugment(keras.layers.Layer):
    """``layer(features, lengths, training=True)``; identity at inference.

    Args:
        freq_masks: frequency masks per utterance.
        freq_mask_width: maximum width of each, in feature bins (uniform in ``[0, width]``).
        time_masks: time masks per utterance.
        time_mask_ratio: maximum width of each, as a fraction of the utterance length.
        seed: for the random masks (a ``keras.random.SeedGenerator``).
    """

    def __init__(self, freq_masks=2, freq_mask_width=27, time_masks=10, time_mask_ratio=0.05, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        for name, value in (("freq_masks", freq_masks), ("freq_mask_width", freq_mask_width),
                            ("time_masks", time_masks)):
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name}={value!r} must be a non-negative integer")
        if not 0 <= time_mask_ratio <= 1:
            raise ConfigError(f"time_mask_ratio={time_mask_ratio!r} must be in [0, 1]")
        self.freq_masks, self.freq_mask_width = freq_masks, freq_mask_width
        self.time_masks, self.time_mask_ratio, self.seed = time_masks, float(time_mask_ratio), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _bands(self, batch, count, size, max_width):
        """``(width, start)``, each ``(batch, count)``: ``count`` random bands per row, of width
        ``0..max_width`` and inside ``[0, size)``; ``size``, ``max_width`` are ``(batch,)`` tensors."""
        size = ops.cast(ops.reshape(size, (-1, 1)), "float32")
        max_width = ops.cast(ops.reshape(max_width, (-1, 1)), "float32")
        u = keras.random.uniform((batch, count, 2), seed=self.seed_generator)
        width = ops.floor(u[..., 0] * (max_width + 1.0))
        start = ops.floor(u[..., 1] * ops.maximum(size - width, 0.0))
        return width, start

    def _mask(self, width, start, positions):
        positions = ops.cast(positions, "float32")[None, None, :]
        inside = (positions >= start[..., None]) & (positions < (start + width)[..., None])
        return ops.any(inside, axis=1)

    def call(self, features, lengths=None, training=None):
        if not training:
            return features
        batch, time, n_bins = ops.shape(features)[0], ops.shape(features)[1], features.shape[-1]
        lengths = ops.full((batch,), time, "int32") if lengths is None else ops.cast(lengths, "int32")
        drop = None
        if self.freq_masks and self.freq_mask_width:
            width, start = self._bands(batch, self.freq_masks, ops.full((batch,), n_bins, "float32"),
                                       ops.full((batch,), float(self.freq_mask_width), "float32"))
            drop = self._mask(width, start, ops.arange(n_bins))[:, None, :]  # (batch, 1, bins)
        if self.time_masks and self.time_mask_ratio:
            width, start = self._bands(batch, self.time_masks, lengths,
                                       ops.floor(ops.cast(lengths, "float32") * self.time_mask_ratio))
            time_drop = self._mask(width, start, ops.arange(time))[:, :, None]  # (batch, time, 1)
            drop = time_drop if drop is None else (drop | time_drop)
        if drop is None:
            return features
        return ops.where(drop, ops.zeros_like(features), features)

    def compute_output_shape(self, features_shape, lengths_shape=None):
        return features_shape

    def get_config(self):
        return {**super().get_config(), "freq_masks": self.freq_masks, "freq_mask_width": self.freq_mask_width,
                "time_masks": self.time_masks, "time_mask_ratio": self.time_mask_ratio, "seed": self.seed}
