"""Normalisation layers: feature statistics stored inside the model, and BatchNorm over valid frames."""

import keras
from keras import ops

from asr.errors import ConfigError
from asr.layers.lengths import sequence_mask
from asr.layers.masking import frame_mask


@keras.saving.register_keras_serializable(package="asr")
class FeatureNormalization(keras.layers.Layer):
    """``(features - mean) / std`` per feature dimension, padding frames set to zero.

    ``mean``/``std`` are non-trainable weights computed on the training set
    (``asr.features.FeatureStats``) and set with ``set_normalization``; they are saved with the
    model, so inference never recomputes them.

    ``per_utterance`` then removes what is constant within one recording (the speaker's and
    the channel's spectral shape): ``"mean"`` subtracts each utterance's own mean over its
    valid frames (cepstral/log-spectral mean normalisation), ``"mean_std"`` also divides by its
    own standard deviation; ``"none"`` keeps the global statistics alone.

    Call: ``layer(features, lengths)`` with features ``(batch, time, n_features)`` and lengths
    ``(batch,)``; ``lengths=None`` treats every frame as valid.
    """

    PER_UTTERANCE = ("none", "mean", "mean_std")
    MIN_VARIANCE = 1e-4  # per-utterance variance floor (in global-std units): a constant band stays finite

    def __init__(self, n_features, per_utterance="none", **kwargs):
        super().__init__(**kwargs)
        if per_utterance not in self.PER_UTTERANCE:
            raise ConfigError(f"per_utterance={per_utterance!r} must be one of {self.PER_UTTERANCE}")
        self.n_features = int(n_features)
        self.per_utterance = per_utterance

    def build(self, features_shape, lengths_shape=None):
        self.mean = self.add_weight(shape=(self.n_features,), initializer="zeros", trainable=False, name="mean")
        self.std = self.add_weight(shape=(self.n_features,), initializer="ones", trainable=False, name="std")

    def set_normalization(self, mean, std):
        if len(mean) != self.n_features or len(std) != self.n_features:
            raise ConfigError(f"statistics have {len(mean)}/{len(std)} dimensions; the model expects "
                             f"n_features={self.n_features}")
        self.mean.assign(ops.convert_to_tensor(mean, "float32"))
        self.std.assign(ops.convert_to_tensor(std, "float32"))

    def call(self, features, lengths=None):
        x = (ops.cast(features, self.compute_dtype) - ops.cast(self.mean, self.compute_dtype))
        x = x / ops.cast(self.std, self.compute_dtype)
        if lengths is None and self.per_utterance == "none":
            return x
        if lengths is None:
            mask = ops.ones_like(x[:, :, :1])
        else:
            mask = sequence_mask(lengths, ops.shape(x)[1], dtype=self.compute_dtype)[:, :, None]
        if self.per_utterance != "none":
            count = ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)  # (batch, 1, 1)
            x = x - ops.sum(x * mask, axis=1, keepdims=True) / count
            if self.per_utterance == "mean_std":
                variance = ops.sum(ops.square(x) * mask, axis=1, keepdims=True) / count
                x = x * ops.rsqrt(variance + self.MIN_VARIANCE)
        return x * mask

    def compute_output_shape(self, features_shape, lengths_shape=None):
        return features_shape

    def get_config(self):
        return {**super().get_config(), "n_features": self.n_features, "per_utterance": self.per_utterance}


@keras.saving.register_keras_serializable(package="asr")
class SequenceBatchNorm(keras.layers.BatchNormalization):
    """BatchNormalization over valid frames only: ``layer(x, lengths)`` or ``layer(x, mask=mask)``.

    ``x`` is ``(batch, time, ..., channels)``; batch statistics (and so the moving averages
    used at inference) ignore frames at or beyond ``lengths``. Takes every
    ``keras.layers.BatchNormalization`` argument; an incoming Keras mask passes on.
    """

    def build(self, x_shape, lengths_shape=None):
        super().build(x_shape)

    def call(self, x, lengths=None, training=None, mask=None):
        mask = frame_mask(x, lengths, mask)
        if mask is not None and len(x.shape) > 3:  # (batch, time, freq, channels): mask every frequency of a frame
            mask = ops.broadcast_to(ops.reshape(mask, ops.shape(mask) + (1,) * (len(x.shape) - 3)),
                                    ops.shape(x)[:-1])
        return super().call(x, training=training, mask=mask)

    def compute_output_shape(self, x_shape, lengths_shape=None):
        return x_shape
