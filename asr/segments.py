"""Long audio in constant memory: read a file in blocks, resample as a stream, and cut it into
segments of at most ``max_seconds`` at pauses.

A pause is a gap between the non-silent intervals that ``librosa.effects.split`` finds
(``top_db`` below the buffer's peak); among the pauses after ``min_seconds`` the longest
is chosen and the cut falls in its middle. Where no pause exists, the audio is cut hard at
``max_seconds`` and the next segment starts ``overlap_seconds`` earlier; the transcripts are
then stitched at the middle of the overlap (``asr.inference``). Memory holds one buffer of at
most ``max_seconds`` plus one read block, whatever the file's length.

    for segment in stream_segments("talk.flac", 16000):
        segment.start, segment.audio        # seconds from the file start, float32 samples
"""

import dataclasses
import os
import struct
import warnings

import numpy as np
import soundfile as sf

from asr.audio import MAX_ABS_SAMPLE, AudioError
from asr.errors import ConfigError

MAX_SEGMENT_SECONDS = 20.0  # the training utterances' range (LibriSpeech <= ~20 s): what the model knows
MIN_SEGMENT_SECONDS = 8.0  # do not cut before: fewer, longer segments keep context and batch well
OVERLAP_SECONDS = 1.0  # re-read before a hard cut, so a word cut in two appears whole in one segment
TOP_DB = 35.0  # frames this far below the buffer's peak count as silence
BLOCK_SECONDS = 5.0  # read granularity
VAD_FRAME, VAD_HOP = 1024, 256  # samples at 16 kHz: 64 ms windows every 16 ms


@dataclasses.dataclass
class Segment:
    """A piece of a file: ``audio`` float32 mono at the model's rate, starting ``start`` s in;
    ``keep_from`` (s, absolute) is where this segment's words start to count when it
    overlaps the previous one (a hard cut), else ``start``."""

    start: float
    audio: np.ndarray
    keep_from: float

    @property
    def end(self):
        return self.start + len(self.audio) / self.sample_rate

    sample_rate: int = 16000


def declared_wav_frames(path):
    """Frames that a RIFF/WAVE header's ``data`` chunk declares, or None for other formats."""
    with open(path, "rb") as f:
        if f.read(4) != b"RIFF" or (f.seek(8), f.read(4))[1] != b"WAVE":
            return None
        block_align = None
        while header := f.read(8):
            if len(header) < 8:
                return None
            chunk, size = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk == b"fmt ":
                block_align = struct.unpack("<H", f.read(16)[12:14])[0]
                f.seek(size - 16 + size % 2, os.SEEK_CUR)
            elif chunk == b"data":
                return size // block_align if block_align else None
            else:
                f.seek(size + size % 2, os.SEEK_CUR)
    return None


def _blocks(path, sample_rate):
    """Mono float32 blocks at ``sample_rate``, streamed; checks values and truncation."""
    import soxr

    try:
        info = sf.info(path)
        blocks = sf.blocks(path, blocksize=int(BLOCK_SECONDS * info.samplerate), dtype="float32", always_2d=True)
        stream = None if info.samplerate == sample_rate else soxr.ResampleStream(info.samplerate, sample_rate, 1,
                                                                                 dtype="float32", quality="HQ")
        read = 0
        for block in blocks:
            if not np.isfinite(block).all() or np.abs(block).max(initial=0.0) > MAX_ABS_SAMPLE:
                raise AudioError(f"audio file {path!r} has non-finite samples or samples far outside [-1, 1]")
            read += len(block)
            mono = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
            yield mono if stream is None else stream.resample_chunk(mono)
        if stream is not None:
            yield stream.resample_chunk(np.zeros(0, np.float32), last=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise AudioError(f"cannot read audio file {path!r} (corrupt or unsupported format): {error}") from None
    declared = declared_wav_frames(path)
    if declared is not None and read < declared:
        warnings.warn(f"{path!r} is truncated: read {read} frames of the {declared} its header declares",
                      stacklevel=3)


def _pause_cut(audio, sample_rate, min_samples, top_db):
    """Sample index in the middle of the longest pause after ``min_samples``, or None."""
    import librosa

    voiced = librosa.effects.split(audio, top_db=top_db, frame_length=VAD_FRAME * sample_rate // 16000,
                                   hop_length=VAD_HOP * sample_rate // 16000)
    gaps = [(start - end, (end + start) // 2) for (_, end), (start, _) in zip(voiced[:-1], voiced[1:])
            if (end + start) // 2 >= min_samples]
    if len(voiced) and voiced[-1][1] < len(audio) and voiced[-1][1] >= min_samples:  # trailing silence
        gaps.append((len(audio) - voiced[-1][1], (voiced[-1][1] + len(audio)) // 2))
    return max(gaps)[1] if gaps else None


def stream_segments(path, sample_rate=16000, max_seconds=MAX_SEGMENT_SECONDS, min_seconds=MIN_SEGMENT_SECONDS,
                    overlap_seconds=OVERLAP_SECONDS, top_db=TOP_DB, grid=1):
    """Segments of the audio file ``path`` (see the module docstring), in order.

    ``grid``: every segment starts at a multiple of this many samples. With the model's
    feature hop times its time subsampling, a segment's output frames are exactly the frames
    the whole file would give there (same framing, same subsampling phase): a model is not
    asked to read speech shifted by a fraction of its frame.
    """
    if not 0 < min_seconds < max_seconds or not 0 <= overlap_seconds < min_seconds:
        raise ConfigError(f"need 0 < min_seconds={min_seconds} < max_seconds={max_seconds} and "
                          f"0 <= overlap_seconds={overlap_seconds} < min_seconds")
    path = os.fspath(path)
    if os.path.isdir(path):
        raise AudioError(f"audio path {path!r} is a directory, not an audio file")
    if not os.path.isfile(path):
        raise AudioError(f"audio file not found: {path!r}")
    max_samples, min_samples = int(max_seconds * sample_rate), int(min_seconds * sample_rate)
    buffer, offset, keep_from, produced = np.zeros(0, np.float32), 0, 0.0, False
    for block in _blocks(path, sample_rate):
        buffer = np.concatenate([buffer, block])
        while len(buffer) > max_samples:
            cut = _pause_cut(buffer[:max_samples], sample_rate, min_samples, top_db)
            overlap = 0 if cut is not None else int(overlap_seconds * sample_rate)
            cut = max_samples if cut is None else cut
            cut, overlap = cut - cut % grid, overlap - overlap % grid
            yield Segment(offset / sample_rate, buffer[:cut].copy(), keep_from, sample_rate)
            produced = True
            keep_from = (offset + cut - overlap / 2) / sample_rate
            buffer, offset = buffer[cut - overlap:], offset + cut - overlap
    if len(buffer) or not produced:
        if not len(buffer) and not produced:
            raise AudioError(f"audio file {path!r} is empty (0 samples)")
        yield Segment(offset / sample_rate, buffer, keep_from, sample_rate)
