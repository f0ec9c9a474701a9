"""SpecAugment: masks within lengths, inactive at inference, seeded, serialisable."""

import numpy as np
import pytest
from harness import check_config_round_trip
from keras import ops

from asr.features import FeatureConfig
from asr.layers import SpecAugment
from asr.models import build_model

pytestmark = pytest.mark.backend_sensitive  # also run under every other backend

RNG = np.random.default_rng(0)


def test_spec_augment_masks_within_lengths_and_shapes():
    layer = SpecAugment(freq_masks=2, freq_mask_width=5, time_masks=4, time_mask_ratio=0.2, seed=1)
    x = RNG.normal(size=(3, 50, 20)).astype("float32") + 10.0  # no natural zeros
    lengths = np.array([50, 30, 8], "int32")
    out = ops.convert_to_numpy(layer(x, lengths, training=True))
    assert out.shape == x.shape
    masked = out == 0
    assert masked.any()
    for b, n in enumerate(lengths):  # time masks stay inside the valid frames
        full_frames = masked[b].all(axis=1)
        assert not full_frames[n:].any()
        assert full_frames[:n].sum() <= 4 * int(0.2 * n)
    bands = masked.all(axis=1)  # frequency bands masked over the whole utterance
    assert bands.sum(axis=1).max() <= 2 * 5


def test_spec_augment_is_inactive_at_inference():
    layer = SpecAugment(seed=3)
    x = RNG.normal(size=(2, 40, 80)).astype("float32")
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(x, np.array([40, 20]), training=False)), x)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(x)), x)
    model = build_model("rnn", FeatureConfig("log_mel"), units=4, spec_augment={"time_masks": 3, "seed": 0})
    batch = {"features": x, "feature_lengths": np.array([40, 20], "int32")}
    plain = build_model("rnn", FeatureConfig("log_mel"), units=4)  # the same network without SpecAugment
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict_on_batch(batch), plain.predict_on_batch(batch), rtol=1e-5, atol=1e-6)
    trained = ops.convert_to_numpy(model(batch, training=True))
    assert not np.allclose(trained, model.predict_on_batch(batch), atol=1e-4)


def test_spec_augment_is_seeded_and_serialisable():
    x = RNG.normal(size=(2, 60, 30)).astype("float32")
    first = ops.convert_to_numpy(SpecAugment(seed=7)(x, training=True))
    again = ops.convert_to_numpy(SpecAugment(seed=7)(x, training=True))
    np.testing.assert_array_equal(first, again)
    check_config_round_trip(SpecAugment(freq_masks=1, freq_mask_width=3, time_masks=0, seed=2))
    model = build_model("rnn", FeatureConfig("log_mel"), units=4, spec_augment={"freq_masks": 1})
    assert model.get_config()["spec_augment"] == {"freq_masks": 1}
    with pytest.raises(ValueError, match="time_mask_ratio=2"):
        SpecAugment(time_mask_ratio=2)
