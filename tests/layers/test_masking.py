"""Masked pooling, DropMask: padded + mask equals unpadded; fully masked rows stay finite."""

import keras
import numpy as np
import pytest
from keras import ops

from asr.layers import (
    AttentionPooling,
    AttentionWithContext,
    DropMask,
    MaskedGlobalAveragePooling1D,
    MaskedGlobalMaxPooling1D,
)

pytestmark = pytest.mark.backend_sensitive  # also run under every other backend

RNG = np.random.default_rng(0)


POOLING_LAYERS = {
    "attention_with_context": lambda: AttentionWithContext(kernel_regularizer="l2", context_constraint="non_neg",
                                                           name="attention_with_context"),
    "attention_pooling": lambda: AttentionPooling(units=8, name="attention_pooling"),
    "attention_pooling_simple": lambda: AttentionPooling(name="attention_pooling_simple"),
    "average": lambda: MaskedGlobalAveragePooling1D(name="average"),
    "max": lambda: MaskedGlobalMaxPooling1D(name="max"),
}


@pytest.mark.parametrize("name", sorted(POOLING_LAYERS))
def test_padded_plus_mask_equals_unpadded(name):
    layer = POOLING_LAYERS[name]()
    x = RNG.normal(size=(1, 5, 6)).astype("float32")
    padded = np.concatenate([x, RNG.normal(size=(1, 4, 6)).astype("float32")], axis=1)
    mask = np.array([[True] * 5 + [False] * 4])
    np.testing.assert_allclose(ops.convert_to_numpy(layer(padded, mask=mask)), ops.convert_to_numpy(layer(x)),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(POOLING_LAYERS))
def test_fully_masked_rows_are_finite(name):
    out = ops.convert_to_numpy(POOLING_LAYERS[name]()(RNG.normal(size=(2, 4, 6)).astype("float32"),
                                                       mask=np.array([[False] * 4, [True, True, False, False]])))
    assert np.all(np.isfinite(out)) and not out[0].any()


def test_drop_mask_lets_masked_rnn_feed_flatten():
    inputs = keras.Input((5, 3))
    x = keras.layers.Masking()(inputs)
    x = keras.layers.LSTM(4, return_sequences=True)(x)
    x = DropMask()(x)
    assert getattr(x, "_keras_mask", None) is None
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(x)))
    assert model.predict(np.ones((2, 5, 3)), verbose=0).shape == (2, 1)
