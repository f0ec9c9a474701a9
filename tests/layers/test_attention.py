"""Attention pooling layers: weights, masks, regularisation."""

import keras
import numpy as np
from keras import ops

from asr.layers import (
    AttentionWithContext,
    masked_softmax,
)

RNG = np.random.default_rng(0)


def test_attention_weights_and_no_mask_passed_on():
    layer = AttentionWithContext(return_attention=True)
    x = RNG.normal(size=(2, 6, 4)).astype("float32")
    mask = np.arange(6)[None] < np.array([[6], [3]])
    pooled, weights = layer(x, mask=mask)
    weights = ops.convert_to_numpy(weights)
    np.testing.assert_allclose(weights.sum(1), [1, 1], rtol=1e-5)
    assert not weights[1, 3:].any()
    np.testing.assert_allclose(ops.convert_to_numpy(pooled), np.einsum("bt,btf->bf", weights, x), rtol=1e-5)
    inputs = keras.Input((None, 4))
    out = AttentionWithContext()(keras.layers.Masking()(inputs))
    assert getattr(out, "_keras_mask", None) is None


def test_attention_regularizer_adds_loss():
    layer = AttentionWithContext(kernel_regularizer=keras.regularizers.L2(1.0))
    layer(RNG.normal(size=(1, 3, 4)).astype("float32"))
    assert len(layer.losses) == 1


def test_masked_softmax_plain():
    np.testing.assert_allclose(ops.convert_to_numpy(masked_softmax(np.zeros((1, 4), "float32"))), [[0.25] * 4])
