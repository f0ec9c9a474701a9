"""FeatureNormalization and SequenceBatchNorm: statistics and outputs ignore padding."""

import numpy as np
import pytest
from keras import ops

from asr.layers import (
    FeatureNormalization,
    SequenceBatchNorm,
)

pytestmark = pytest.mark.backend_sensitive  # also run under every other backend


def test_sequence_batch_norm_ignores_padding():
    x = np.concatenate([np.ones((1, 3, 2)), np.full((1, 2, 2), 100.0)], axis=1).astype("float32")
    bn = SequenceBatchNorm(momentum=0.0)
    bn(x, np.array([3]), training=True)
    np.testing.assert_allclose(ops.convert_to_numpy(bn.moving_mean), [1.0, 1.0], rtol=1e-5)
    out = ops.convert_to_numpy(SequenceBatchNorm()(np.ones((2, 4, 3, 5), "float32"), np.array([1, 4])))
    assert out.shape == (2, 4, 3, 5)


def test_feature_normalization_zeroes_padding_and_checks_dims():
    layer = FeatureNormalization(2)
    layer.build((None, None, 2))
    layer.set_normalization(np.array([1.0, 2.0]), np.array([2.0, 4.0]))
    out = ops.convert_to_numpy(layer(np.full((1, 3, 2), 3.0, "float32"), np.array([2])))
    np.testing.assert_allclose(out[0], [[1.0, 0.25], [1.0, 0.25], [0, 0]])
    with pytest.raises(ValueError, match="n_features=2"):
        layer.set_normalization(np.zeros(3), np.ones(3))
