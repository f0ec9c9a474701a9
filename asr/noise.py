"""Real background noise for training: recordings turned into features once, then mixed into
each training utterance's cached features in the power domain.

>>> bank = NoiseBank.from_folder("noise/speech-commands-background", FeatureConfig("log_mel"))
>>> noisy = bank.mix(features, rng, snr_db=10.0)         # (frames, bins) log-power -> same shape

Mixing: a recording is drawn with probability proportional to its length, a start frame
uniformly, and ``frames`` consecutive noise frames are taken (wrapping around a recording
shorter than the utterance). The noise is scaled so that the utterance's mean feature power
over its noise's is ``snr_db`` (the SNR as the features measure power: through the mel
filters for log-mel), then added: ``log(exp(x) + g * exp(n))``. Adding powers drops the
speech x noise cross term of the spectra, which averages to zero over a filter's bins; it
needs no audio and no feature extraction per epoch (``bench/noise_mixing.py`` measures both
its speed and its difference from mixing waveforms).
"""

import pathlib

import numpy as np

from asr.audio import AUDIO_EXTENSIONS, AudioError
from asr.augment import DB_TO_LOG, LOG_POWER_KINDS
from asr.errors import ConfigError
from asr.features import extract_file


class NoiseBank:
    """Noise recordings as ``(frames, bins)`` log-power features, and ``mix``."""

    def __init__(self, features, names):
        if not features:
            raise ConfigError("a noise bank needs at least one recording")
        self.features, self.names = [np.asarray(f, dtype=np.float32) for f in features], list(names)
        lengths = np.array([len(f) for f in self.features], dtype=np.float64)
        self.weights = lengths / lengths.sum()

    @classmethod
    def from_folder(cls, folder, feature_config):
        """Every audio file below ``folder`` (any format, resampled to the features' rate);
        ``ConfigError`` naming the folder if it is missing, holds no audio, or the features are
        not log-power (MFCCs are not additive)."""
        folder = pathlib.Path(folder)
        if feature_config.kind not in LOG_POWER_KINDS:
            raise ConfigError(f"noise_dir mixes log-power features {LOG_POWER_KINDS}, not features="
                              f"{feature_config.kind!r}")
        if not folder.is_dir():
            raise ConfigError(f"noise_dir {str(folder)!r} is not a folder")
        paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
        if not paths:
            raise ConfigError(f"noise_dir {str(folder)!r} holds no audio files (looked for "
                              f"{', '.join(AUDIO_EXTENSIONS)})")
        features = []
        for path in paths:
            try:
                features.append(extract_file(path, feature_config))
            except AudioError as error:
                raise ConfigError(f"noise_dir: {error}") from None
        return cls(features, [str(p.relative_to(folder)) for p in paths])

    def crop(self, frames, rng):
        """``frames`` consecutive frames of a recording drawn by length, from a uniform start."""
        noise = self.features[rng.choice(len(self.features), p=self.weights)]
        start = int(rng.integers(len(noise)))
        return noise[(start + np.arange(frames)) % len(noise)]

    def mix(self, features, rng, snr_db):
        """``features`` with a noise crop added at ``snr_db`` (power domain), float32."""
        features = np.asarray(features, dtype=np.float32)
        noise = self.crop(len(features), rng)
        log_gain = (_log_mean_power(features) - _log_mean_power(noise)) - snr_db * DB_TO_LOG
        return np.logaddexp(features, noise + np.float32(log_gain)).astype(np.float32)


def _log_mean_power(log_power):
    """``log(mean(exp(x)))``, computed stably."""
    peak = float(np.max(log_power))
    return peak + float(np.log(np.mean(np.exp(log_power.astype(np.float64) - peak))))
