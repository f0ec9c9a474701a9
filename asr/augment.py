"""Data-pipeline augmentation of features, per utterance: gain, noise and vocal tract length
perturbation (features with a frequency axis, ``spectrogram`` and ``log_mel``) and time shift
(any kind).

Applied by ``asr.batches.CTCBatches(transform=...)`` with a generator seeded by (seed, epoch,
batch), so runs are reproducible. Speed perturbation happens earlier, on the audio
(``asr.utterances.prepare(speeds=...)``, cached per speed); SpecAugment is a model layer.

Gain: ``g`` dB scales power by ``10**(g/10)``, i.e. adds ``g * ln(10) / 10`` to every log bin.
Noise: stationary white-ish noise at an SNR drawn from ``noise_snr_db``, added in the power
domain: ``log(exp(x) + n * e)``, ``n`` the noise power per bin relative to the utterance's
mean power and ``e ~ Exp(1)`` the periodogram's fluctuation; with ``noise`` (an
``asr.noise.NoiseBank``), a crop of a real recording instead, at the same SNR.
Time shift: ``0..time_shift`` copies of the first frame (uniform) are put before the
utterance (never dropping frames, so a label that fitted still fits), so that each epoch the
model's subsampled frame grid (stride 2 or more) falls at another phase of the speech; a
model trained only on utterance-aligned frames reads the same audio shifted by one frame
noticeably worse (the long-audio cutter found this).
VTLP (Jaitly & Hinton, 2013): each utterance is heard as if from a vocal tract scaled by
``alpha`` ~ U[1 - vtlp, 1 + vtlp]: frequency ``f`` moves to ``alpha * f`` up to a boundary,
then linearly to Nyquist (``vtlp_warp``). Applied to cached features by reading each bin at
the frequency that the warp maps onto its centre, interpolating linearly between bins; for
log-mel that approximates re-running the filterbank on the warped spectrum.
"""

import dataclasses
import math

import numpy as np

from asr.errors import ConfigError
from asr.features import FeatureConfig, bin_frequencies

LOG_POWER_KINDS = ("spectrogram", "log_mel")
DB_TO_LOG = math.log(10.0) / 10.0  # dB of power -> natural-log units
VTLP_BOUNDARY = 0.6  # Jaitly & Hinton's F_hi = 4800 Hz at 16 kHz, as a fraction of Nyquist


def _vtlp_knots(alpha, nyquist):
    """The warp's three knots, (frequencies in, frequencies out): 0 -> 0, the knee
    ``F_hi * min(alpha, 1) / alpha`` -> ``alpha`` times it, Nyquist -> Nyquist."""
    knee = VTLP_BOUNDARY * nyquist * min(alpha, 1.0) / alpha
    return [0.0, knee, nyquist], [0.0, alpha * knee, nyquist]


def vtlp_warp(freqs, alpha, nyquist):
    """Frequencies ``freqs`` (Hz) warped by ``alpha``: ``alpha * f`` below ``F_hi * min(alpha, 1) /
    alpha`` (``F_hi = VTLP_BOUNDARY * nyquist``), then a straight line to ``nyquist``, so the warp
    is monotone and maps [0, nyquist] onto itself."""
    return np.interp(freqs, *_vtlp_knots(alpha, nyquist))


def warp_frequency_axis(features, alpha, bin_hz, nyquist):
    """``(frames, bins)`` features as heard with the frequency axis warped by ``alpha``: bin ``k``
    takes the value found at ``vtlp_warp^-1(bin_hz[k])``, linearly interpolated between bins
    (edge bins repeat beyond the axis). Monotone in frequency, so a spectral peak moves, and
    the order of bins along frequency never changes."""
    knots_in, knots_out = _vtlp_knots(alpha, nyquist)
    source_hz = np.interp(bin_hz, knots_out, knots_in)  # the inverse of a piecewise-linear warp
    position = np.interp(source_hz, bin_hz, np.arange(len(bin_hz), dtype=np.float64))
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, len(bin_hz) - 1)
    weight = (position - low).astype(np.float32)
    return features[:, low] * (1.0 - weight) + features[:, high] * weight


@dataclasses.dataclass(frozen=True)
class FeatureAugment:
    """``augment(features, rng) -> features`` for ``(frames, bins)`` log-power features."""

    gain_db: float = 0.0  # random gain, uniform in [-gain_db, +gain_db]
    noise_prob: float = 0.0  # probability that an utterance gets additive noise
    noise_snr_db: tuple = (10.0, 30.0)  # SNR range, uniform
    time_shift: int = 0  # prepend 0..time_shift copies of the first frame, uniform
    vtlp: float = 0.0  # warp factor alpha uniform in [1 - vtlp, 1 + vtlp]; needs feature_config
    feature_config: FeatureConfig | None = None  # what the feature bins are (for vtlp)
    noise: object = dataclasses.field(default=None, compare=False)  # an asr.noise.NoiseBank: real noise, not white
    _bin_hz: np.ndarray | None = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.gain_db < 0 or not 0 <= self.noise_prob <= 1:
            raise ConfigError(f"gain_db={self.gain_db} must be >= 0 and noise_prob={self.noise_prob} in [0, 1]")
        if not isinstance(self.time_shift, int) or self.time_shift < 0:
            raise ConfigError(f"time_shift={self.time_shift!r} must be a non-negative number of frames")
        if len(self.noise_snr_db) != 2 or self.noise_snr_db[0] > self.noise_snr_db[1]:
            raise ConfigError(f"noise_snr_db={self.noise_snr_db} must be a (low, high) pair")
        if not 0 <= self.vtlp < 0.5:
            raise ConfigError(f"vtlp={self.vtlp!r} must be in [0, 0.5) (warp factors 1 +- vtlp; 0.1 is usual)")
        if self.vtlp and self.feature_config is None:
            raise ConfigError(f"vtlp={self.vtlp} needs the feature_config whose frequency axis it warps")
        if self.vtlp:  # bin centres once, not per utterance (ConfigError for MFCC)
            object.__setattr__(self, "_bin_hz", bin_frequencies(self.feature_config))

    @property
    def active(self):
        return self.changes_power or self.time_shift > 0 or self.vtlp > 0

    @property
    def changes_power(self):
        return self.gain_db > 0 or self.noise_prob > 0

    def __call__(self, features, rng):
        features = np.asarray(features, dtype=np.float32)
        if self.time_shift:
            features = np.pad(features, ((int(rng.integers(0, self.time_shift + 1)), 0), (0, 0)), mode="edge")
        if self.vtlp:
            alpha = rng.uniform(1.0 - self.vtlp, 1.0 + self.vtlp)
            features = warp_frequency_axis(features, alpha, self._bin_hz, self.feature_config.sample_rate / 2)
        if self.noise_prob and rng.random() < self.noise_prob:
            snr_db = rng.uniform(*self.noise_snr_db)
            if self.noise is not None:
                return self._gain(self.noise.mix(features, rng, snr_db), rng)
            log_noise = np.log(np.mean(np.exp(features, dtype=np.float64))) - snr_db * DB_TO_LOG
            fluctuation = rng.exponential(1.0, size=features.shape)
            features = np.logaddexp(features, log_noise + np.log(fluctuation)).astype(np.float32)
        return self._gain(features, rng)

    def _gain(self, features, rng):
        if self.gain_db:
            features = features + np.float32(rng.uniform(-self.gain_db, self.gain_db) * DB_TO_LOG)
        return features


def check_kind(augment, feature_kind):
    if augment.changes_power and feature_kind not in LOG_POWER_KINDS:
        raise ConfigError(f"gain/noise augmentation works on log-power features {LOG_POWER_KINDS}, "
                         f"not features={feature_kind!r}")
