"""Feature extraction in NumPy: log spectrogram, MFCC and log-mel, layout ``(time, features)``.

All three take float32 mono audio at ``config.sample_rate`` and return float32 arrays of
shape ``(frames, config.n_features)``. Normalisation statistics are computed on the
training set (``FeatureStats``) and stored inside the model, never recomputed at inference.
"""

import dataclasses
import hashlib
import json

import numpy as np

from asr import dsp
from asr.audio import SAMPLE_RATE, AudioError, load_audio, resample
from asr.errors import ConfigError

HOP_LENGTH = 160  # 10 ms at 16 kHz
SPECTROGRAM_N_FFT = 320  # 20 ms Hann window at 16 kHz -> 320 // 2 + 1 = 161 bins up to 8 kHz
SPECTROGRAM_MAX_FREQ = 8000  # Hz: Nyquist at 16 kHz, so all 161 bins are kept
MEL_N_FFT = 400  # 25 ms window at 16 kHz
N_MELS = 80
MFCC_N_FFT = 512  # python_speech_features' default nfft
MFCC_WIN_LENGTH = 400  # 25 ms: python_speech_features' default winlen=0.025
MFCC_N_FILTERS = 26  # python_speech_features' default nfilt
N_MFCC = 13
LOG_EPS = 1e-10  # floor inside log(); -23 in log units, far below speech energy

KINDS = ("spectrogram", "mfcc", "log_mel")
_DEFAULTS = {  # kind -> (n_fft, win_length, n_mels)
    "spectrogram": (SPECTROGRAM_N_FFT, SPECTROGRAM_N_FFT, None),
    "mfcc": (MFCC_N_FFT, MFCC_WIN_LENGTH, MFCC_N_FILTERS),
    "log_mel": (MEL_N_FFT, MEL_N_FFT, N_MELS),
}


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """How audio becomes features; saved inside every model.

    ``n_fft``, ``win_length`` and ``n_mels`` default per ``kind`` (``None`` = the kind's
    default): spectrogram 320/320 (161 bins), mfcc 512/400 with 26 filters, log_mel 400/400/80.
    """

    kind: str = "log_mel"
    sample_rate: int = SAMPLE_RATE
    hop_length: int = HOP_LENGTH
    n_fft: int | None = None
    win_length: int | None = None
    n_mels: int | None = None
    n_mfcc: int = N_MFCC
    max_freq: float = SPECTROGRAM_MAX_FREQ

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConfigError(f"feature kind={self.kind!r} must be one of {KINDS}")
        n_fft, win_length, n_mels = _DEFAULTS[self.kind]
        if self.kind == "spectrogram" and self.n_mels is not None:
            raise ConfigError(f"FeatureConfig n_mels={self.n_mels!r} applies to log_mel and mfcc features, not "
                              "spectrogram")
        for name, default in (("n_fft", n_fft), ("win_length", win_length), ("n_mels", n_mels)):
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        for name in ("sample_rate", "hop_length", "n_fft", "win_length", "n_mfcc"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"FeatureConfig {name}={value!r} must be a positive integer")
        if self.win_length > self.n_fft:
            raise ConfigError(f"win_length={self.win_length} must be <= n_fft={self.n_fft}")
        if self.n_mels is not None and (not isinstance(self.n_mels, int) or self.n_mels <= 0):
            raise ConfigError(f"FeatureConfig n_mels={self.n_mels!r} must be a positive integer")
        if self.kind == "mfcc" and self.n_mfcc > self.n_mels:
            raise ConfigError(f"FeatureConfig n_mfcc={self.n_mfcc} must be <= n_mels={self.n_mels} (cepstra come "
                              "from the mel filters)")

    @property
    def n_features(self):
        if self.kind == "spectrogram":
            freqs = np.fft.rfftfreq(self.n_fft, 1.0 / self.sample_rate)
            return int(np.sum(freqs <= self.max_freq))
        return self.n_mfcc if self.kind == "mfcc" else self.n_mels

    @property
    def frames_per_second(self):
        return self.sample_rate / self.hop_length

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, config):
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = set(config) - names
        if unknown:
            raise ConfigError(f"unknown FeatureConfig fields {sorted(unknown)}; known: {sorted(names)}")
        return cls(**config)

    def cache_key(self):
        """Short stable hash: feature caches are keyed by it."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha1(blob).hexdigest()[:12]


def _check_audio(audio, min_samples):
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ConfigError(f"audio must be mono with shape (samples,), got shape {audio.shape}")
    if audio.size < min_samples:
        raise AudioError(f"audio has {audio.size} samples, fewer than one analysis window ({min_samples})")
    return audio


def spectrogram(audio, sample_rate=SAMPLE_RATE, n_fft=SPECTROGRAM_N_FFT, hop_length=HOP_LENGTH,
                max_freq=SPECTROGRAM_MAX_FREQ):
    """Log power spectrogram (AIND/DeepSpeech style): Hann window, no centring.

    Power is scaled by the window energy and sample rate (a power spectral density, with
    the non-DC/Nyquist bins doubled). Returns float32 ``(frames, bins)`` with
    ``frames = 1 + (samples - n_fft) // hop_length`` and bins up to ``max_freq``.
    """
    audio = _check_audio(audio, n_fft)
    window = np.hanning(n_fft).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(audio, n_fft)[::hop_length]
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    scale = np.sum(window**2) * sample_rate
    power[:, 1:-1] *= 2.0 / scale
    power[:, (0, -1)] /= scale
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    n_bins = int(np.sum(freqs <= max_freq))
    return np.log(power[:, :n_bins] + LOG_EPS).astype(np.float32)


def mfcc(audio, sample_rate=SAMPLE_RATE, n_mfcc=N_MFCC, n_fft=MFCC_N_FFT, win_length=MFCC_WIN_LENGTH,
         hop_length=HOP_LENGTH, n_mels=MFCC_N_FILTERS):
    """MFCC with python_speech_features' defaults (26 filters, lifter 22, log energy in c0;
    ``asr.dsp.htk_mfcc`` computes the same values).

    Returns float32 ``(frames, n_mfcc)``.
    """
    audio = _check_audio(audio, win_length)
    return dsp.htk_mfcc(audio, sample_rate, win_length, hop_length, n_fft, n_mels, n_mfcc).astype(np.float32)


def log_mel(audio, sample_rate=SAMPLE_RATE, n_mels=N_MELS, n_fft=MEL_N_FFT, win_length=MEL_N_FFT,
            hop_length=HOP_LENGTH):
    """Natural-log mel power spectrogram: librosa's ``melspectrogram`` (centred frames, periodic
    Hann, Slaney mel filters to Nyquist) computed by ``asr.dsp``. Returns ``(frames, n_mels)``."""
    audio = _check_audio(audio, win_length)
    mel = dsp.mel_power(audio, sample_rate, n_fft, win_length, hop_length, n_mels)
    return np.log(mel + LOG_EPS).astype(np.float32)


def bin_frequencies(config):
    """Centre frequency in Hz of each feature bin, ``(n_features,)``: the FFT bins kept by a
    spectrogram, the mel filters' centres for log-mel (librosa's Slaney mel scale, 0 Hz to
    Nyquist, as ``log_mel`` uses). MFCCs are cepstra, with no frequency axis: ``ConfigError``."""
    if config.kind == "spectrogram":
        return np.fft.rfftfreq(config.n_fft, 1.0 / config.sample_rate)[: config.n_features]
    if config.kind == "log_mel":
        return dsp.mel_frequencies(config.n_mels + 2, 0.0, config.sample_rate / 2)[1:-1]
    raise ConfigError(f"features={config.kind!r} have no frequency axis (spectrogram and log_mel do)")


def extract_features(audio, config):
    """Features of float32 mono ``audio`` (at ``config.sample_rate``) as ``(frames, n_features)``.

    Raises ``AudioError`` when the features are not finite (samples so large that their
    power overflows), so they never reach a model or the normalisation statistics.
    """
    if config.kind == "spectrogram":
        features = spectrogram(audio, config.sample_rate, config.n_fft, config.hop_length, config.max_freq)
    elif config.kind == "mfcc":
        features = mfcc(audio, config.sample_rate, config.n_mfcc, config.n_fft, config.win_length,
                        config.hop_length, config.n_mels)
    else:
        features = log_mel(audio, config.sample_rate, config.n_mels, config.n_fft, config.win_length,
                           config.hop_length)
    if not np.isfinite(features).all():
        peak = float(np.max(np.abs(audio)))
        raise AudioError(f"features are not finite: audio samples reach |x| = {peak:.3g} (expected within [-1, 1])")
    return features


def extract_file(path, config, speed=1.0, offset=0.0, duration=None):
    """Load ``path`` (or its segment ``offset`` .. ``offset + duration`` seconds) at the
    config's sample rate and return its features.

    ``speed`` != 1 plays the audio that much faster first (speed perturbation: the samples
    are treated as recorded at ``sample_rate * speed`` and resampled to ``sample_rate``).
    """
    audio = load_audio(path, config.sample_rate, offset, duration)
    if speed != 1.0:
        audio = resample(audio, round(config.sample_rate * speed), config.sample_rate)
    try:
        return extract_features(audio, config)
    except AudioError as error:
        raise AudioError(f"{str(path)!r}: {error}") from None


class FeatureStats:
    """Per-dimension mean and standard deviation, accumulated in float64 over any number of
    ``(rows, dims)`` arrays (frames of utterances, or time steps of a series), then applied.

    >>> stats = FeatureStats().update(features)        # as many times as needed
    >>> mean, std = stats.result()                      # stored in a model (set_normalization)
    >>> FeatureStats().fit(train).transform(test)       # standardise a table with train statistics
    """

    MIN_STD = 1e-5  # floor for constant dimensions so normalisation never divides by ~0

    def __init__(self):
        self.count, self.total, self.total_sq = 0, 0.0, 0.0

    def update(self, features, weight=1.0):
        """Add ``features`` (rows, dims), each row counted ``weight`` times (a sampling weight)."""
        if not (np.isfinite(weight) and weight > 0):
            raise ConfigError(f"FeatureStats.update weight={weight!r} must be a finite number > 0")
        features = np.asarray(features, dtype=np.float64)
        self.count += weight * features.shape[0]
        self.total = self.total + weight * features.sum(axis=0)
        self.total_sq = self.total_sq + weight * np.square(features).sum(axis=0)
        return self

    def fit(self, data):
        """Statistics of ``data`` (rows, dims) alone."""
        self.__init__()
        return self.update(data)

    def result(self):
        """``(mean, std)`` float32 ``(dims,)``; ``std`` is floored at ``MIN_STD``."""
        if self.count == 0:
            raise ConfigError("FeatureStats has seen no frames: cannot compute mean/std")
        mean = self.total / self.count
        var = np.maximum(self.total_sq / self.count - np.square(mean), 0.0)
        return mean.astype(np.float32), np.maximum(np.sqrt(var), self.MIN_STD).astype(np.float32)

    def transform(self, data):
        """``(data - mean) / std`` as float32."""
        mean, std = self.result()
        return ((np.asarray(data, dtype=np.float32) - mean) / std).astype(np.float32)

    def inverse(self, data, columns=None):
        """Back to the original units; ``columns`` selects the statistics of those dimensions."""
        mean, std = self.result()
        columns = slice(None) if columns is None else columns
        return np.asarray(data) * std[columns] + mean[columns]
