"""FeatureNormalization's per-utterance modes: what they remove, and padding invariance."""

import numpy as np
import pytest
from keras import ops

from asr.layers import FeatureNormalization

pytestmark = pytest.mark.backend_sensitive

RNG = np.random.default_rng(0)


def normalize(x, lengths, mode):
    layer = FeatureNormalization(x.shape[-1], per_utterance=mode)
    layer.build(x.shape)
    layer.set_normalization(np.full(x.shape[-1], 1.0), np.full(x.shape[-1], 2.0))
    return ops.convert_to_numpy(layer(x, lengths))


@pytest.mark.parametrize("mode", ["mean", "mean_std"])
def test_per_utterance_statistics_and_padding_invariance(mode):
    x = RNG.normal(3.0, 5.0, size=(2, 30, 6)).astype("float32")
    x[1, 20:] = 100.0  # padding past the length must not reach the statistics
    lengths = np.array([30, 20], "int32")
    out = normalize(x, lengths, mode)
    for row, n in enumerate(lengths):
        np.testing.assert_allclose(out[row, :n].mean(axis=0), 0.0, atol=1e-5)
        if mode == "mean_std":
            np.testing.assert_allclose(out[row, :n].std(axis=0), 1.0, atol=1e-3)
    assert np.all(out[1, 20:] == 0.0)
    alone = normalize(x[1:, :20], lengths[1:], mode)  # the same utterance unpadded
    np.testing.assert_allclose(out[1, :20], alone[0], atol=1e-5)


def test_per_utterance_mean_removes_a_constant_offset():
    x = RNG.normal(size=(1, 40, 5)).astype("float32")
    lengths = np.array([40], "int32")
    offset = np.linspace(-3, 3, 5).astype("float32")  # a channel/speaker spectral tilt
    np.testing.assert_allclose(normalize(x + offset, lengths, "mean"), normalize(x, lengths, "mean"), atol=1e-5)
    assert not np.allclose(normalize(x + offset, lengths, "none"), normalize(x, lengths, "none"), atol=1e-2)


def test_per_utterance_mode_is_checked():
    with pytest.raises(ValueError, match="per_utterance='max'"):
        FeatureNormalization(4, per_utterance="max")
