"""Audio loading: any wav/flac (or other libsndfile format), any rate, any channel count.

``load_audio`` returns float32 mono samples in [-1, 1] at the requested rate. Every
failure raises ``AudioError`` naming the file and the problem.
"""

import os

import numpy as np
import soundfile as sf

from asr.errors import AsrError, ConfigError

SAMPLE_RATE = 16000  # Hz: LibriSpeech's rate and the default model rate
RESAMPLE_TYPE = "soxr_hq"  # librosa's default high-quality resampler
MAX_ABS_SAMPLE = 256.0  # float audio is nominally within [-1, 1]; 2**8 x full scale (+48 dB) is not audio
#                         (e.g. a float file written without scaling), so it is refused, not decoded


class AudioError(AsrError, ValueError):
    """A file that cannot be used as audio (missing, corrupt, empty, non-finite)."""


def audio_info(path):
    """Return ``(duration_seconds, sample_rate)`` from the header only (fast)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise AudioError(f"audio file not found: {path!r}")
    try:
        info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise AudioError(f"cannot read audio file {path!r}: {error}") from None
    if info.frames == 0 or info.samplerate <= 0:
        raise AudioError(f"audio file {path!r} is empty (0 samples)")
    return info.frames / info.samplerate, info.samplerate


def load_audio(path, sample_rate=SAMPLE_RATE):
    """Read an audio file as float32 mono at ``sample_rate``.

    Args:
        path: wav, flac, ogg or any format libsndfile reads; int or float PCM.
        sample_rate: target rate in Hz; the file is resampled when it differs.

    Returns:
        float32 array, shape ``(samples,)``, values in [-1, 1] for PCM input.
    """
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ConfigError(f"sample_rate={sample_rate!r} must be a positive integer")
    path = os.fspath(path)
    if os.path.isdir(path):
        raise AudioError(f"audio path {path!r} is a directory, not an audio file")
    if not os.path.isfile(path):
        raise AudioError(f"audio file not found: {path!r}")
    try:
        samples, file_rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise AudioError(f"cannot read audio file {path!r} (corrupt or unsupported format): {error}") from None
    if samples.size == 0:
        raise AudioError(f"audio file {path!r} is empty (0 samples)")
    if not np.all(np.isfinite(samples)):
        raise AudioError(f"audio file {path!r} contains NaN or infinite samples")
    peak = float(np.max(np.abs(samples)))
    if peak > MAX_ABS_SAMPLE:
        raise AudioError(f"audio file {path!r} has samples up to |x| = {peak:.3g}, far outside [-1, 1] "
                         f"(limit {MAX_ABS_SAMPLE:g}): a float file written without scaling?")
    audio = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    return resample(audio, file_rate, sample_rate)


def resample(audio, orig_sample_rate, sample_rate):
    """Resample float32 mono ``audio`` from ``orig_sample_rate`` to ``sample_rate`` Hz."""
    if orig_sample_rate == sample_rate:
        return np.ascontiguousarray(audio, dtype=np.float32)
    import librosa  # imported here: librosa's import costs ~1 s

    out = librosa.resample(audio, orig_sr=orig_sample_rate, target_sr=sample_rate, res_type=RESAMPLE_TYPE)
    return out.astype(np.float32, copy=False)
