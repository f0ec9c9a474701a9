"""Long audio in constant memory: read a file in blocks, resample as a stream, and cut it into
segments of at most ``max_seconds`` at pauses.

Reading is ``asr.audio.stream_audio`` (blocks, checks, truncation warning). A pause is a
gap between the non-silent intervals that ``asr.dsp.nonsilent_intervals`` finds
(``top_db`` below the buffer's peak); among the pauses after ``min_seconds`` the longest
is chosen and the cut falls in its middle. Where no pause exists, the audio is cut hard at
``max_seconds`` and the next segment starts ``overlap_seconds`` earlier; the transcripts are
then stitched at the middle of the overlap (``asr.inference``). Memory holds one buffer of at
most ``max_seconds`` plus one read block, whatever the file's length.

    for segment in stream_segments("talk.flac", 16000):
        segment.start, segment.audio        # seconds from the file start, float32 samples
"""

import dataclasses

import numpy as np

from asr import dsp
from asr.audio import AudioError, stream_audio
from asr.errors import ConfigError

MAX_SEGMENT_SECONDS = 20.0  # the training utterances' range (LibriSpeech <= ~20 s): what the model knows
MIN_SEGMENT_SECONDS = 8.0  # do not cut before: fewer, longer segments keep context and batch well
OVERLAP_SECONDS = 1.0  # re-read before a hard cut, so a word cut in two appears whole in one segment
TOP_DB = 35.0  # frames this far below the buffer's peak count as silence
VAD_FRAME, VAD_HOP = 1024, 256  # samples at 16 kHz: 64 ms windows every 16 ms


@dataclasses.dataclass
class Segment:
    """A piece of a file: ``audio`` float32 mono at the model's rate, starting ``start`` s in;
    ``keep_from`` (s, absolute) is where this segment's words start to count when it
    overlaps the previous one (a hard cut), else ``start``."""

    start: float
    audio: np.ndarray
    keep_from: float
    sample_rate: int = 16000

    @property
    def end(self):
        return self.start + len(self.audio) / self.sample_rate


def _pause_cut(audio, sample_rate, min_samples, top_db):
    """Sample index in the middle of the longest pause after ``min_samples``, or None."""
    voiced = dsp.nonsilent_intervals(audio, top_db, frame_length=VAD_FRAME * sample_rate // 16000,
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
    max_samples, min_samples = int(max_seconds * sample_rate), int(min_seconds * sample_rate)
    buffer, offset, keep_from, produced = np.zeros(0, np.float32), 0, 0.0, False
    for block in stream_audio(path, sample_rate):
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
