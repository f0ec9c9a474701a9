"""Word timings from the CTC best path, and subtitles (SRT, WebVTT).

The best path takes the most likely symbol in every output frame; a word starts at the
frame of its first letter and ends after the frame of its last one. Words end at a space,
or at a pause of more than ``WORD_GAP_SECONDS`` between letters (models rarely emit a
space at the edges of an utterance, where a pause separates the words). An output frame lasts
``frame_seconds(model)``: the feature hop times the model's time subsampling. A word's
confidence is the mean, over its letters' frames, of the posterior of the chosen symbol.
"""

import dataclasses

import numpy as np

from asr.posteriors import log_softmax
from asr.text import BLANK

WORD_GAP_SECONDS = 0.4  # letters further apart than this belong to two words (a pause the model left without a space)
SUBTITLE_MAX_SECONDS = 6.0  # a cue a viewer can read: at most 6 s ...
SUBTITLE_MAX_CHARS = 84  # ... and two lines of 42 characters (the common broadcast limits)


@dataclasses.dataclass
class Word:
    """A word with its start and end in seconds and its confidence in [0, 1]."""

    text: str
    start: float
    end: float
    confidence: float

    def to_dict(self):
        return {"word": self.text, "start": round(self.start, 3), "end": round(self.end, 3),
                "confidence": round(self.confidence, 3)}


def frame_seconds(model, probe_frames=100_000):
    """Seconds per output (logit) frame: the feature hop times the model's subsampling,
    measured on ``probe_frames`` input frames (exact for strided convolutions)."""
    config = model.feature_config
    return config.hop_length / config.sample_rate * probe_frames / int(model.output_lengths(probe_frames))


def best_path_words(logits, vocabulary, seconds_per_frame, offset=0.0):
    """Words of the best path of unpadded ``(frames, vocab)`` logits, timed from ``offset`` s."""
    posteriors = np.exp(log_softmax(logits))
    best = posteriors.argmax(axis=-1)
    space = vocabulary.encode(" ")[0] if " " in vocabulary.symbols else None
    words, letters, frames, previous = [], [], [], BLANK
    for t, symbol in enumerate(best):
        emitted = symbol != BLANK and symbol != previous
        previous = symbol
        if symbol == BLANK or symbol == space:
            if symbol == space and letters:
                words.append(_word(letters, frames, posteriors, best, seconds_per_frame, offset))
                letters, frames = [], []
            continue
        if emitted and letters and (t - frames[-1]) * seconds_per_frame > WORD_GAP_SECONDS:
            words.append(_word(letters, frames, posteriors, best, seconds_per_frame, offset))
            letters, frames = [], []
        if emitted:
            letters.append(vocabulary.symbols[symbol - 1])
        frames.append(t)
    if letters:
        words.append(_word(letters, frames, posteriors, best, seconds_per_frame, offset))
    return words


def _word(letters, frames, posteriors, best, seconds_per_frame, offset):
    confidence = float(np.mean(posteriors[frames, best[frames]]))
    return Word("".join(letters), offset + frames[0] * seconds_per_frame, offset + (frames[-1] + 1) * seconds_per_frame,
                confidence)


# === subtitles ===
def subtitle_cues(words):
    """Group timed words into ``(start, end, text)`` cues of at most ``SUBTITLE_MAX_SECONDS``
    and ``SUBTITLE_MAX_CHARS``."""
    cues, current = [], []
    for word in words:
        text = " ".join(w.text for w in current + [word])
        if current and (word.end - current[0].start > SUBTITLE_MAX_SECONDS or len(text) > SUBTITLE_MAX_CHARS):
            cues.append((current[0].start, current[-1].end, " ".join(w.text for w in current)))
            current = []
        current.append(word)
    if current:
        cues.append((current[0].start, current[-1].end, " ".join(w.text for w in current)))
    return cues


def _timestamp(seconds, separator):
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(cues):
    """SubRip text: numbered cues ``HH:MM:SS,mmm --> HH:MM:SS,mmm``."""
    return "".join(f"{i}\n{_timestamp(start, ',')} --> {_timestamp(end, ',')}\n{text}\n\n"
                   for i, (start, end, text) in enumerate(cues, 1))


def to_vtt(cues):
    """WebVTT text: a ``WEBVTT`` header, then cues ``HH:MM:SS.mmm --> HH:MM:SS.mmm``."""
    return "WEBVTT\n\n" + "".join(f"{_timestamp(start, '.')} --> {_timestamp(end, '.')}\n{text}\n\n"
                                  for start, end, text in cues)
