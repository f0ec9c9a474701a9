"""SpecAugment layer and data-pipeline augmentation: shapes, masks, determinism, inference."""

import keras
import numpy as np
import pytest
from keras import ops

from asr.augment import DB_TO_LOG, FeatureAugment
from asr.config import TrainConfig
from asr.corpus.fsdd import read_fsdd, split_fsdd
from asr.features import FeatureConfig
from asr.layers import SpecAugment
from asr.models import build_model
from conftest import DATA_DIR, require
from harness import check_config_round_trip

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
    np.testing.assert_allclose(model.predict_on_batch(batch), model.predict_on_batch(batch))
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


def test_feature_augment_gain_noise_and_determinism():
    features = np.log(RNG.uniform(1.0, 2.0, size=(100, 40))).astype("float32")
    gain = FeatureAugment(gain_db=6.0)
    shifted = gain(features, np.random.default_rng(0))
    shift = shifted - features
    assert np.allclose(shift, shift[0, 0], atol=1e-5) and abs(shift[0, 0]) <= 6 * DB_TO_LOG
    noisy = FeatureAugment(noise_prob=1.0, noise_snr_db=(0.0, 0.0))(features, np.random.default_rng(0))
    assert np.all(noisy >= features - 1e-6)  # power only adds
    snr = np.mean(np.exp(features)) / np.mean(np.exp(noisy) - np.exp(features))
    assert 0.7 < snr < 1.4  # 0 dB
    np.testing.assert_array_equal(FeatureAugment(3.0, 0.5)(features, np.random.default_rng(5)),
                                  FeatureAugment(3.0, 0.5)(features, np.random.default_rng(5)))
    assert not FeatureAugment().active


def test_augmentation_config_checks():
    config = TrainConfig(speed_perturb=[0.9, 1.0, 1.1], gain_db=3.0, noise_snr_db=[5, 20])
    assert config.speed_perturb == (0.9, 1.0, 1.1) and config.feature_augment().noise_snr_db == (5.0, 20.0)
    with pytest.raises(ValueError, match="speed_perturb"):
        TrainConfig(speed_perturb=(3.0,))
    with pytest.raises(ValueError, match="log-power features"):
        TrainConfig(features="mfcc", gain_db=3.0)
    with pytest.raises(ValueError, match="noise_prob=2"):
        TrainConfig(noise_prob=2.0)


def test_fsdd_reader_and_split():
    entries, report = read_fsdd(require(DATA_DIR / "fsdd"))
    assert len(entries) == 3000 and not report.skipped
    train, dev, test = split_fsdd(entries)
    assert (len(train), len(dev), len(test)) == (2400, 300, 300)
    assert {e["text"] for e in test} == set("zero one two three four five six seven eight nine".split())
    assert all(e["index"] < 5 for e in test)
