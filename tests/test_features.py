import numpy as np
import pytest
from conftest import write_tone

from asr.features import FeatureConfig, FeatureStats, extract_features, extract_file, log_mel, mfcc, spectrogram

RNG = np.random.default_rng(0)
AUDIO = (0.1 * RNG.normal(size=16000)).astype(np.float32)  # 1 s at 16 kHz


def test_spectrogram_shape_and_peak():
    t = np.arange(16000) / 16000
    feats = spectrogram(np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    assert feats.shape == (1 + (16000 - 320) // 160, 161) and feats.dtype == np.float32
    assert np.argmax(feats.mean(axis=0)) == 20  # 1000 Hz / 50 Hz per bin


def test_spectrogram_max_freq():
    assert spectrogram(AUDIO, max_freq=4000).shape[1] == 81


def test_mfcc_matches_python_speech_features_defaults():
    from python_speech_features import mfcc as psf_mfcc

    np.testing.assert_allclose(mfcc(AUDIO), psf_mfcc(AUDIO, samplerate=16000), rtol=1e-4, atol=1e-4)
    assert mfcc(AUDIO).shape == (99, 13)


def test_log_mel_matches_librosa():
    import librosa

    mel = librosa.feature.melspectrogram(y=AUDIO, sr=16000, n_fft=400, hop_length=160, n_mels=80)
    np.testing.assert_allclose(log_mel(AUDIO), np.log(mel.T + 1e-10), rtol=1e-4, atol=1e-4)
    assert log_mel(AUDIO).shape == (101, 80)


@pytest.mark.parametrize("kind, n", [("spectrogram", 161), ("mfcc", 13), ("log_mel", 80)])
def test_config_defaults_and_extract(kind, n):
    config = FeatureConfig(kind)
    assert config.n_features == n
    assert extract_features(AUDIO, config).shape[1] == n
    assert FeatureConfig.from_dict(config.to_dict()) == config


def test_config_validation():
    with pytest.raises(ValueError, match="kind='mel'"):
        FeatureConfig("mel")
    with pytest.raises(ValueError, match="hop_length=0"):
        FeatureConfig(hop_length=0)
    with pytest.raises(ValueError, match="win_length=500 must be <= n_fft=400"):
        FeatureConfig(win_length=500)
    with pytest.raises(ValueError, match="unknown FeatureConfig fields"):
        FeatureConfig.from_dict({"kind": "mfcc", "bogus": 1})
    with pytest.raises(ValueError, match="n_mfcc=13 must be <= n_mels=12"):
        FeatureConfig("mfcc", n_mels=12)
    with pytest.raises(ValueError, match="n_mels=40 applies to log_mel and mfcc features, not spectrogram"):
        FeatureConfig("spectrogram", n_mels=40)


@pytest.mark.parametrize("kind, n_mels, n", [("log_mel", 40, 40), ("mfcc", 40, 13)])
def test_n_mels_sets_the_filterbank(kind, n_mels, n):
    config = FeatureConfig(kind, n_mels=n_mels)
    assert config.n_mels == n_mels and config.n_features == n
    assert extract_features(AUDIO, config).shape[1] == n
    assert config.cache_key() != FeatureConfig(kind).cache_key()


def test_cache_key_depends_on_config():
    assert FeatureConfig("mfcc").cache_key() != FeatureConfig("log_mel").cache_key()
    assert FeatureConfig("mfcc").cache_key() == FeatureConfig("mfcc").cache_key()


def test_short_audio_and_bad_shape():
    with pytest.raises(ValueError, match="fewer than one analysis window"):
        spectrogram(np.zeros(100, dtype=np.float32))
    with pytest.raises(ValueError, match=r"mono.*\(2, 100\)"):
        log_mel(np.zeros((2, 100), dtype=np.float32))


def test_extract_file_resamples_to_config_rate(tmp_path):
    path = write_tone(tmp_path / "t.wav", 1.0, 44100, channels=2)
    assert extract_file(path, FeatureConfig("log_mel")).shape == (101, 80)


def test_feature_stats():
    a, b = RNG.normal(3, 2, size=(500, 4)), RNG.normal(3, 2, size=(700, 4))
    stats = FeatureStats()
    stats.update(a)
    stats.update(b)
    mean, std = stats.result()
    both = np.concatenate([a, b])
    np.testing.assert_allclose(mean, both.mean(0), rtol=1e-5)
    np.testing.assert_allclose(std, both.std(0), rtol=1e-4)
    with pytest.raises(ValueError, match="no frames"):
        FeatureStats().result()


def test_feature_stats_weighted_rows_count_as_repeats():
    """weight 2 == the rows twice; 0.5 of b == half of b's rows' share (a sampling weight)."""
    a, b = RNG.normal(0, 1, size=(300, 3)), RNG.normal(5, 3, size=(200, 3))
    twice = FeatureStats().update(a).update(b, 2.0).result()
    repeated = FeatureStats().update(a).update(b).update(b).result()
    np.testing.assert_allclose(twice, repeated, rtol=1e-6)
    mean, _ = FeatureStats().update(a).update(b, 0.5).result()
    np.testing.assert_allclose(mean, (a.sum(0) + 0.5 * b.sum(0)) / 400, rtol=1e-6)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="weight"):
            FeatureStats().update(a, bad)
