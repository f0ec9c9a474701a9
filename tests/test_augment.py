"""Data-pipeline feature augmentation (gain, noise, time shift, VTLP) and its TrainConfig checks."""

import numpy as np
import pytest

from asr.augment import DB_TO_LOG, FeatureAugment, vtlp_warp, warp_frequency_axis
from asr.config import TrainConfig
from asr.features import FeatureConfig, bin_frequencies

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


# === vocal tract length perturbation ===
LOG_MEL = FeatureConfig("log_mel")


def test_vtlp_warp_moves_a_formant_and_keeps_the_axis():
    nyquist, hz = 8000.0, bin_frequencies(LOG_MEL)
    assert vtlp_warp(0.0, 1.1, nyquist) == 0.0 and vtlp_warp(nyquist, 0.9, nyquist) == pytest.approx(nyquist)
    assert vtlp_warp(1000.0, 1.1, nyquist) == pytest.approx(1100.0)  # below the knee: f -> alpha f
    np.testing.assert_allclose(vtlp_warp(hz, 1.0, nyquist), hz)
    formant = np.full((3, len(hz)), -5.0, dtype="float32")
    formant[:, np.argmin(np.abs(hz - 1000.0))] = 5.0
    for alpha in (0.9, 1.1):
        moved = warp_frequency_axis(formant, alpha, hz, nyquist)
        assert moved.shape == formant.shape and moved.dtype == np.float32
        assert abs(hz[np.argmax(moved[0])] - 1000.0 * alpha) < 0.6 * np.diff(hz)[np.argmax(moved[0])]
    np.testing.assert_allclose(warp_frequency_axis(formant, 1.0, hz, nyquist), formant, atol=1e-6)


@pytest.mark.parametrize("alpha", [0.9, 0.95, 1.05, 1.1])
def test_vtlp_keeps_the_order_of_bins_along_frequency(alpha):
    hz = bin_frequencies(LOG_MEL)
    rising = np.sort(RNG.normal(size=(4, len(hz))), axis=1).astype("float32")
    warped = warp_frequency_axis(rising, alpha, hz, 8000.0)
    assert np.all(np.diff(warped, axis=1) >= -1e-6)  # still rising: interpolation never reorders bins
    assert np.all(warped >= rising.min(axis=1, keepdims=True) - 1e-6)
    assert np.all(warped <= rising.max(axis=1, keepdims=True) + 1e-6)


def test_vtlp_augment_is_seeded_per_utterance_and_checked():
    features = RNG.normal(size=(30, 80)).astype("float32")
    vtlp = FeatureAugment(vtlp=0.1, feature_config=LOG_MEL)
    assert vtlp.active and not vtlp.changes_power
    out = vtlp(features, np.random.default_rng(3))
    assert out.shape == features.shape
    np.testing.assert_array_equal(out, vtlp(features, np.random.default_rng(3)))
    assert not np.allclose(out, vtlp(features, np.random.default_rng(4)))
    spectrogram = TrainConfig(features="spectrogram", vtlp=0.1).feature_augment()
    assert spectrogram(RNG.normal(size=(5, 161)), np.random.default_rng(0)).shape == (5, 161)
    with pytest.raises(ValueError, match="no frequency axis"):
        TrainConfig(features="mfcc", vtlp=0.1)
    with pytest.raises(ValueError, match="vtlp=0.6"):
        TrainConfig(vtlp=0.6)
    with pytest.raises(ValueError, match="needs the feature_config"):
        FeatureAugment(vtlp=0.1)


def test_vtlp_is_training_only():
    """The warp lives in the training batches' transform, never in the saved model."""
    from asr.models import build_model

    config = TrainConfig(vtlp=0.1)
    model = build_model(config.model, LOG_MEL, spec_augment=config.spec_augment, **config.model_params)
    assert "vtlp" not in str(model.get_config())
    features = RNG.normal(size=(1, 40, 80)).astype("float32")
    inputs = {"features": features, "feature_lengths": np.array([40], "int32")}
    np.testing.assert_array_equal(model.predict_on_batch(inputs), model.predict_on_batch(inputs))
