"""Data-pipeline feature augmentation (gain, noise) and its TrainConfig checks."""

import numpy as np
import pytest

from asr.augment import DB_TO_LOG, FeatureAugment
from asr.config import TrainConfig

RNG = np.random.default_rng(0)


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


def test_time_shift_delays_by_copies_of_the_first_frame():
    features = RNG.normal(size=(50, 8)).astype("float32")
    shift = FeatureAugment(time_shift=3)
    assert shift.active and not shift.changes_power
    delays = set()
    for seed in range(40):
        out = shift(features, np.random.default_rng(seed))
        delay = len(out) - len(features)
        delays.add(delay)
        np.testing.assert_array_equal(out[delay:], features)  # nothing dropped: a label that fitted still fits
        np.testing.assert_array_equal(out[:delay], np.repeat(features[:1], delay, axis=0))
    assert delays == {0, 1, 2, 3}
    np.testing.assert_array_equal(shift(features, np.random.default_rng(7)), shift(features, np.random.default_rng(7)))
    assert TrainConfig(features="mfcc", time_shift=2).feature_augment().time_shift == 2  # any feature kind
    with pytest.raises(ValueError, match="time_shift=-1"):
        FeatureAugment(time_shift=-1)
