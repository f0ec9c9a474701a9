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

    Call: ``layer(features, lengths)`` with features ``(batch, time, n_features)`` and lengths
    ``(batch,)``; ``lengths=None`` treats every frame as valid.
    """

    def __init__(self, n_features, **kwargs):
        super().__init__(**kwargs)
        self.n_features = int(n_features)

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
        if lengths is not None:
            x = x * sequence_mask(lengths, ops.shape(x)[1], dtype=self.compute_dtype)[:, :, None]
        return x

    def compute_output_shape(self, features_shape, lengths_shape=None):
        return features_shape

    def get_config(self):
        return {**super().get_config(), "n_features": self.n_features}


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
