"""asr.layers.ConformerBlock and MaskedSelfAttention: padding invariance, relative positions,
argument checks (the config, save and training-step checks are in test_layer_api.py)."""

import numpy as np
import pytest
from keras import ops

from asr.errors import ConfigError
from asr.layers import ConformerBlock, MaskedSelfAttention
from asr.layers.conformer import rotate

pytestmark = pytest.mark.backend_sensitive  # also run under every other backend

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("layer", [MaskedSelfAttention(num_heads=2), ConformerBlock(num_heads=2, conv_kernel=5)],
                         ids=["attention", "block"])
def test_valid_frames_do_not_depend_on_padding(layer):
    """A padded batch gives each sequence what it gives alone; what the padding holds does not matter."""
    x = RNG.normal(size=(3, 11, 8)).astype("float32")
    lengths = np.array([11, 6, 2], "int32")
    batch = ops.convert_to_numpy(layer(x, lengths))
    noisy = x + 100.0 * (np.arange(11)[None, :, None] >= lengths[:, None, None])  # garbage past each length
    noisy_batch = ops.convert_to_numpy(layer(noisy, lengths))
    for b, n in enumerate(lengths):
        alone = ops.convert_to_numpy(layer(x[b: b + 1, :n], lengths[b: b + 1]))[0]
        np.testing.assert_allclose(batch[b, :n], alone, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(noisy_batch[b, :n], alone, rtol=1e-4, atol=1e-4)


def test_block_zeroes_padded_frames():
    x = RNG.normal(size=(2, 9, 8)).astype("float32")
    out = ops.convert_to_numpy(ConformerBlock(num_heads=2, conv_kernel=3)(x, np.array([9, 4], "int32")))
    assert not out[1, 4:].any() and out[1, :4].any()


def test_rotary_scores_depend_on_relative_position_only():
    """q.k after rotation by positions (p, r) equals that at (p + s, r + s)."""
    q, k = RNG.normal(size=(1, 1, 1, 8)).astype("float32"), RNG.normal(size=(1, 1, 1, 8)).astype("float32")

    def score(p, r):
        rq = ops.convert_to_numpy(rotate(q, np.array([p], "float32")))
        rk = ops.convert_to_numpy(rotate(k, np.array([r], "float32")))
        return float(np.sum(rq * rk))

    assert score(3, 1) == pytest.approx(score(40, 38), rel=1e-4)
    assert score(3, 1) != pytest.approx(score(3, 2), rel=1e-3)


def test_arguments_are_checked():
    with pytest.raises(ConfigError, match="conv_kernel=4 must be odd"):
        ConformerBlock(conv_kernel=4)
    with pytest.raises(ConfigError, match="num_heads=0"):
        MaskedSelfAttention(num_heads=0)
    with pytest.raises(ConfigError, match="dropout=1.5"):
        ConformerBlock(dropout=1.5)
    with pytest.raises(ConfigError, match="d_model=6 must split into num_heads=4"):
        MaskedSelfAttention(num_heads=4)(np.zeros((1, 3, 6), "float32"))
