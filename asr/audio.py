"""Audio loading: WAV, FLAC, Ogg Vorbis/Opus, MP3 (any libsndfile format), any rate, any channel count.

``load_audio`` returns float32 mono samples in [-1, 1] at the requested rate (optionally one
segment of the file: ``offset`` and ``duration`` in seconds, as Kaldi ``segments`` give them);
``stream_audio`` yields the same in blocks, resampled as a stream (long files in constant
memory). Both apply the same checks, and every failure raises ``AudioError`` naming the
file and the problem; a WAV shorter than its header declares is read with a warning.
"""

import math
import os
import struct
import warnings

import numpy as np
import soundfile as sf

from asr import dsp
from asr.errors import AsrError, ConfigError

SAMPLE_RATE = 16000  # Hz: LibriSpeech's rate and the default model rate
BLOCK_SECONDS = 5.0  # stream_audio's read granularity
SEGMENT_END_TOLERANCE = 0.01  # s: a segment may end this far past the recording (rounding of written times)
FILE_RATE_RANGE = (1000, 384000)  # Hz a file may declare: below 1 kHz is no speech (a damaged header turns
#                                   2.5 s into hours), 384 kHz is the highest rate audio interfaces record
AUDIO_EXTENSIONS = (".flac", ".wav", ".opus", ".ogg", ".mp3")  # what corpus readers look for (libsndfile reads all)
STREAMING_SIZES = (0, 0xFFFFFFFF)  # RIFF data sizes that mean "unknown", not "empty" or "4 GiB"
MAX_ABS_SAMPLE = 256.0  # float audio is nominally within [-1, 1]; 2**8 x full scale (+48 dB) is not audio
#                         (e.g. a float file written without scaling), so it is refused, not decoded


# The fewest bytes a second of audio takes in each container at any real bitrate, so that a header's
# claimed length is checked against the file's size before anything is decoded (libsndfile decodes a
# forged MP3 Xing or Ogg granule count to hours of silence). MP3: 8 kbit/s is the lowest bitrate the
# standard has, every frame present (1000 B/s; half of it as margin). Ogg Opus/Vorbis: 6 kbit/s is
# Opus' lowest, but silence with DTX or Vorbis' floor-only packets take less: 100 B/s. FLAC and other
# lossless formats: a block of digital silence is ~12 bytes per up to 4,096 samples: 8 B/s.
MIN_BYTES_PER_SECOND = {"MP3": 500, "OGG": 100}
MIN_BYTES_PER_SECOND_OTHER = 8
HEADER_SLACK_SECONDS = 1.0  # a header may claim this much more than the size bound (a short clip's headers)


class AudioError(AsrError, ValueError):
    """A file that cannot be used as audio (missing, corrupt, empty, non-finite)."""


class HeaderMismatch(AudioError):
    """A header that claims more audio than the file's size can hold at any real bitrate:
    ``claimed`` and ``possible`` seconds."""

    def __init__(self, path, claimed, possible, size):
        self.claimed, self.possible = claimed, possible
        super().__init__(f"audio file {path!r}: its header claims {claimed:,.1f} s, but its {size:,} bytes hold at "
                         f"most {possible:,.1f} s at any real bitrate (a damaged or forged header)")


def check_claimed_length(path, info):
    """``AudioError`` (``HeaderMismatch``) when ``info`` (``soundfile.info``) claims more audio
    than ``path``'s size can hold; the claimed seconds otherwise."""
    claimed = info.frames / info.samplerate
    size = os.path.getsize(path)
    possible = size / MIN_BYTES_PER_SECOND.get(info.format, MIN_BYTES_PER_SECOND_OTHER)
    if claimed > possible + HEADER_SLACK_SECONDS:
        raise HeaderMismatch(path, claimed, possible, size)
    return claimed


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
    _check_file_rate(path, info.samplerate)
    return check_claimed_length(path, info), info.samplerate


def _check_file_rate(path, rate):
    low, high = FILE_RATE_RANGE
    if not low <= rate <= high:
        raise AudioError(f"audio file {path!r} declares a sample rate of {rate} Hz, outside {low}-{high} Hz: "
                         "a damaged header?")


def _check_path(path, sample_rate):
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ConfigError(f"sample_rate={sample_rate!r} must be a positive integer")
    path = os.fspath(path)
    if os.path.isdir(path):
        raise AudioError(f"audio path {path!r} is a directory, not an audio file")
    if not os.path.isfile(path):
        raise AudioError(f"audio file not found: {path!r}")
    return path


def _checked_mono(samples, path):
    """``(frames, channels)`` samples -> mono, refusing non-finite and absurd values."""
    if not np.all(np.isfinite(samples)):
        raise AudioError(f"audio file {path!r} contains NaN or infinite samples")
    peak = float(np.max(np.abs(samples), initial=0.0))
    if peak > MAX_ABS_SAMPLE:
        raise AudioError(f"audio file {path!r} has samples up to |x| = {peak:.3g}, far outside [-1, 1] "
                         f"(limit {MAX_ABS_SAMPLE:g}): a float file written without scaling?")
    return samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]


def _unreadable(path, error):
    return AudioError(f"cannot read audio file {path!r} (corrupt or unsupported format): {error}")


def load_audio(path, sample_rate=SAMPLE_RATE, offset=0.0, duration=None):
    """Read an audio file (or one segment of it) as float32 mono at ``sample_rate``.

    Args:
        path: wav, flac, ogg/opus, mp3 or any format libsndfile reads; int or float PCM.
        sample_rate: target rate in Hz; the file is resampled when it differs.
        offset: seconds from the start of the file where the segment starts.
        duration: seconds of the segment (None: to the end of the file); a segment that
            starts or ends past the end of the file is an ``AudioError``.

    Returns:
        float32 array, shape ``(samples,)``, values in [-1, 1] for PCM input.
    """
    path = _check_path(path, sample_rate)
    whole = offset == 0 and duration is None
    try:
        with sf.SoundFile(path) as f:
            file_rate = f.samplerate
            _check_file_rate(path, file_rate)
            check_claimed_length(path, f)
            start, frames = (0, -1) if whole else segment_frames(path, offset, duration, file_rate, f.frames)
            if start:
                f.seek(start)
            samples = f.read(frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise _unreadable(path, error) from None
    if samples.size == 0:
        raise AudioError(f"audio file {path!r} is empty (0 samples)")
    if whole:
        _warn_if_truncated(path, len(samples))
    return resample(_checked_mono(samples, path), file_rate, sample_rate)


def segment_frames(path, offset, duration, file_rate, file_frames):
    """``(start, frames)`` of the segment ``offset`` .. ``offset + duration`` seconds (None: to
    the end) in a file of ``file_frames`` at ``file_rate``; an ``AudioError`` when it does not fit."""
    if not 0 <= offset < math.inf or (duration is not None and not 0 < duration < math.inf):
        raise ConfigError(f"segment offset={offset!r}, duration={duration!r} of {path!r} must be finite seconds, "
                          "offset >= 0 and duration > 0")
    start = round(offset * file_rate)
    frames = file_frames - start if duration is None else round(duration * file_rate)
    if start + frames > file_frames + round(SEGMENT_END_TOLERANCE * file_rate) or frames <= 0:
        raise AudioError(f"segment {offset:g}-{offset + frames / file_rate:g} s of {path!r} ends past the end of "
                         f"the recording ({file_frames / file_rate:g} s)")
    return start, min(frames, file_frames - start)


def stream_audio(path, sample_rate=SAMPLE_RATE):
    """``load_audio`` in blocks of ``BLOCK_SECONDS``: float32 mono arrays at ``sample_rate``,
    resampled as a stream, so memory does not grow with the file's length."""
    import soxr

    path = _check_path(path, sample_rate)
    try:
        info = sf.info(path)
        _check_file_rate(path, info.samplerate)
        check_claimed_length(path, info)
        blocks = sf.blocks(path, blocksize=int(BLOCK_SECONDS * info.samplerate), dtype="float32", always_2d=True)
        stream = None if info.samplerate == sample_rate else soxr.ResampleStream(info.samplerate, sample_rate, 1,
                                                                                 dtype="float32",
                                                                                 quality=dsp.SOXR_QUALITY)
        read = 0
        for block in blocks:
            read += len(block)
            mono = _checked_mono(block, path)
            yield mono if stream is None else stream.resample_chunk(mono)
        if stream is not None:
            yield stream.resample_chunk(np.zeros(0, np.float32), last=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise _unreadable(path, error) from None
    _warn_if_truncated(path, read)


def declared_wav_frames(path):
    """Frames that a RIFF/WAVE header's ``data`` chunk declares, or None for other formats."""
    with open(path, "rb") as f:
        if f.read(4) != b"RIFF" or (f.seek(8), f.read(4))[1] != b"WAVE":
            return None
        block_align = None
        while len(header := f.read(8)) == 8:
            chunk, size = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk == b"fmt ":
                block_align = struct.unpack("<H", f.read(16)[12:14])[0]
                f.seek(size - 16 + size % 2, os.SEEK_CUR)
            elif chunk == b"data":  # a streaming writer leaves the size unknown (0 or 0xFFFFFFFF)
                return size // block_align if block_align and size not in STREAMING_SIZES else None
            else:
                f.seek(size + size % 2, os.SEEK_CUR)
    return None


def _warn_if_truncated(path, frames_read):
    """libsndfile reads a cut WAV up to its end without a word: compare with the header."""
    declared = declared_wav_frames(path)
    if declared is not None and frames_read < declared:
        warnings.warn(f"{path!r} is truncated: read {frames_read} frames of the {declared} its header declares",
                      stacklevel=3)


def resample(audio, orig_sample_rate, sample_rate):
    """Resample float32 mono ``audio`` from ``orig_sample_rate`` to ``sample_rate`` Hz."""
    if orig_sample_rate == sample_rate:
        return np.ascontiguousarray(audio, dtype=np.float32)
    return dsp.resample(np.asarray(audio, np.float32), orig_sample_rate, sample_rate)
