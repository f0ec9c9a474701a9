"""Batched inference: audio files -> segments -> features -> logits -> text, word times.

>>> from asr import load_model, transcribe
>>> results = transcribe(load_model("model.keras"), ["a.wav", "b.flac"])   # greedy
>>> [r.text if r.ok else r.error for r in results]
>>> transcribe(model, paths, decoder="beam")                               # CTC prefix beam search
"""

import contextlib
import dataclasses
import itertools
import os
import warnings

import numpy as np
import soundfile as sf

from asr.alignment import best_path_words, frame_seconds
from asr.decoding import GreedyDecoder, make_decoder
from asr.errors import AsrError, ConfigError
from asr.features import extract_features
from asr.padding import PAD_MULTIPLE, pad_batch
from asr.segments import MAX_SEGMENT_SECONDS, MIN_SEGMENT_SECONDS, OVERLAP_SECONDS, stream_segments

DEFAULT_BATCH_SIZE = 16
MAX_BATCH_SIZE = 1024  # segments per forward pass; more only risks memory
SEGMENT_SECONDS_RANGE = (2 * OVERLAP_SECONDS + 1.0, 600.0)  # a cut must leave room past the re-read overlap;
#                                                              10 minutes of features still fit memory
WINDOW_BATCHES = 4  # segments decoded together: batch_size x this, sorted by length (little padding)


def _batch_multiple(model):
    """Rows per batch must be a multiple of this: the local devices of a Keras distribution;
    1 for an ``OnnxModel`` (whose path never imports Keras)."""
    if getattr(model, "session", None) is not None:
        return 1
    from asr.distributed import local_batch_multiple

    return local_batch_multiple()


def predict_logits(model, features, batch_size=DEFAULT_BATCH_SIZE, progress=False):
    """Logits for each ``(frames, n_features)`` array, unpadded: list of ``(frames', vocab)``.

    Utterances are batched by length (similar lengths together) and returned in input order.
    """
    check_batch_size(batch_size)
    order = np.argsort([f.shape[0] for f in features], kind="stable")
    results = [None] * len(features)
    starts = range(0, len(order), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="transcribe", unit="batch")
    multiple = _batch_multiple(model)
    for start in starts:
        ids = order[start: start + batch_size]
        rows = list(ids) + [ids[0]] * (-len(ids) % multiple)  # repeats, dropped below
        batch, lengths = pad_batch([np.asarray(features[i], dtype=np.float32) for i in rows], PAD_MULTIPLE)
        logits = np.asarray(model.predict_on_batch({"features": batch, "feature_lengths": lengths}))
        out_lengths = np.asarray(model.output_lengths(lengths))
        for i, lg, n in zip(ids, logits, out_lengths):
            results[i] = lg[:n]
    return results


def decode_logits(decoder, logits):
    """Decode a list of unpadded ``(frames, vocab)`` logits."""
    return [decoder.decode(lg[None], np.array([lg.shape[0]]))[0] for lg in logits]


@dataclasses.dataclass
class Transcription:
    """The result for one input file: ``text`` (None if it failed) or ``error``, and with
    ``timestamps`` the segments and words with their times (seconds from the file start)."""

    path: str
    text: str | None = None
    error: str | None = None
    duration: float = 0.0
    segments: list = dataclasses.field(default_factory=list)  # {"start", "end", "text"} per segment
    words: list = dataclasses.field(default_factory=list)  # asr.alignment.Word, best path
    warnings: list = dataclasses.field(default_factory=list)

    @property
    def ok(self):
        return self.error is None

    @property
    def confidence(self):
        """Mean word confidence (posterior of the best path), None without words."""
        return float(np.mean([w.confidence for w in self.words])) if self.words else None

    def to_dict(self):
        if not self.ok:
            return {"path": self.path, "error": self.error}
        return {"path": self.path, "text": self.text, "duration": round(self.duration, 3),
                "confidence": None if self.confidence is None else round(self.confidence, 3),
                "segments": self.segments, "words": [w.to_dict() for w in self.words],
                **({"warnings": self.warnings} if self.warnings else {})}


def check_batch_size(batch_size):
    """``ConfigError`` naming the value unless it is an integer from 1 to ``MAX_BATCH_SIZE``."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ConfigError(f"batch_size={batch_size!r} must be an integer from 1 to {MAX_BATCH_SIZE}")


def check_transcribe_options(batch_size, max_segment_seconds):
    """``ConfigError`` naming the value unless ``batch_size`` passes ``check_batch_size`` and
    ``max_segment_seconds`` is within ``SEGMENT_SECONDS_RANGE``."""
    check_batch_size(batch_size)
    low, high = SEGMENT_SECONDS_RANGE
    if not low <= max_segment_seconds <= high:
        raise ConfigError(f"max_segment_seconds={max_segment_seconds!r} must be from {low:g} to {high:g} seconds")


def transcribe(model, paths, decoder="greedy", batch_size=DEFAULT_BATCH_SIZE, progress=False,
               max_segment_seconds=MAX_SEGMENT_SECONDS):
    """Transcribe audio files with an ``AcousticModel``: one ``Transcription`` per path, in order.

    A file that cannot be read or decoded gets its ``error`` and never stops the others.
    Each file is read in blocks and cut at pauses into segments of at most
    ``max_segment_seconds`` (``asr.segments``), so memory does not grow with its length;
    segments of all files are batched together. Features use the model's own
    ``feature_config`` (rate, kind, normalisation statistics travel inside the model file).
    ``iter_transcribe`` gives the same results one by one, each as soon as it is finished.
    """
    return list(iter_transcribe(model, paths, decoder, batch_size, progress, max_segment_seconds))


def iter_transcribe(model, paths, decoder="greedy", batch_size=DEFAULT_BATCH_SIZE, progress=False,
                    max_segment_seconds=MAX_SEGMENT_SECONDS):
    """``transcribe`` as a generator: each file's ``Transcription``, in order, as soon as its last
    segment is decoded (so a caller can publish finished files while later ones are decoded)."""
    check_transcribe_options(batch_size, max_segment_seconds)
    if isinstance(paths, (str, bytes, os.PathLike)) or not hasattr(paths, "__iter__"):
        paths = [paths]
    results = [Transcription(os.fspath(path)) for path in paths]
    decoder = make_decoder(decoder, model.vocabulary)
    seconds = frame_seconds(model)
    bar = _progress_bar(results) if progress else None
    done = 0  # results[:done] were yielded
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            stream = _segments(results, model, max_segment_seconds, caught)
            while window := list(itertools.islice(stream, batch_size * WINDOW_BATCHES)):
                _decode_window(window, results, model, decoder, batch_size, seconds)
                if bar is not None:
                    bar.update(sum(len(segment.audio) for _, segment in window) / model.feature_config.sample_rate)
                for result in results[done: window[-1][0]]:  # files before the window's last one are complete
                    yield _finished(result)
                done = max(done, window[-1][0])
        for result in results[done:]:
            yield _finished(result)
    finally:
        if bar is not None:
            bar.close()


def _finished(result):
    """``result`` with its text joined from its segments (or emptied when it failed)."""
    if result.ok:
        result.text = " ".join(segment["text"] for segment in result.segments if segment["text"])
    else:
        result.segments, result.words = [], []
    return result


def _progress_bar(results):
    from tqdm.auto import tqdm

    total = 0.0
    for result in results:
        with contextlib.suppress(sf.LibsndfileError, RuntimeError, TypeError, OSError):
            total += sf.info(result.path).duration
    return tqdm(total=round(total, 1) or None, unit="s", desc="transcribe (audio seconds)")


def _segments(results, model, max_segment_seconds, caught):
    """``(file index, Segment)`` of every readable file; read errors go into the results."""
    rate = model.feature_config.sample_rate
    grid = model.feature_config.hop_length * round(frame_seconds(model) * rate / model.feature_config.hop_length)
    for index, result in enumerate(results):
        seen = len(caught)
        try:
            for segment in stream_segments(result.path, rate, max_seconds=max_segment_seconds,
                                           min_seconds=min(MIN_SEGMENT_SECONDS, max_segment_seconds / 2), grid=grid):
                result.duration = segment.end
                yield index, segment
        except AsrError as error:
            result.error = str(error)
        result.warnings += [str(w.message) for w in caught[seen:]]


def _decode_window(window, results, model, decoder, batch_size, seconds):
    """Features, logits and text of a window of segments (sorted by length for batching)."""
    kept, features = _window_features(window, results, model.feature_config)
    _decode_features(kept, features, results, model, decoder, batch_size, seconds)


def _window_features(window, results, config):
    """``(kept, features)``: the ``(file index, Segment)`` pairs whose features could be
    computed, and their ``(frames, n_features)`` arrays; a failure goes into its file's result."""
    features, kept = [], []
    for index, segment in window:
        audio = segment.audio
        if len(audio) < config.n_fft:  # a tail shorter than one analysis window: pad with silence
            audio = np.pad(audio, (0, config.n_fft - len(audio)))
        try:
            features.append(extract_features(audio, config))
            kept.append((index, segment))
        except AsrError as error:
            results[index].error = results[index].error or f"{results[index].path!r}: {error}"
    return kept, features


def _decode_features(kept, features, results, model, decoder, batch_size, seconds):
    """Logits of every segment's features, batched, then each segment's text and words."""
    for (index, segment), logits in zip(kept, predict_logits(model, features, batch_size)):
        result = results[index]
        if not result.ok:
            continue
        path_words = best_path_words(logits, model.vocabulary, seconds, segment.start)
        words = [w for w in path_words if w.start >= segment.keep_from]  # stitched at the overlap's middle
        if isinstance(decoder, GreedyDecoder):
            text = " ".join(w.text for w in words)  # the greedy text is the best path's words
        else:  # after a hard cut, drop as many leading words as the best path places in the overlap
            text = decoder.decode(logits[None], np.array([len(logits)]))[0]
            text = " ".join(text.split()[len(path_words) - len(words):])
        result.words += words
        result.segments.append({"start": round(segment.keep_from, 3), "end": round(segment.end, 3), "text": text})


@dataclasses.dataclass
class PreparedFile:
    """One file read, cut into segments and turned into features: everything before the
    forward pass (``prepare_file``), waiting for ``finish_files``."""

    result: Transcription
    segments: list  # asr.segments.Segment, those whose features were computed
    features: list  # (frames, n_features) per segment


def prepare_file(model, path, max_segment_seconds=MAX_SEGMENT_SECONDS):
    """Read ``path``, cut it into segments and compute their features (the CPU work a server can
    do while it waits for more requests); a read error goes into the result, as in ``transcribe``."""
    result = Transcription(os.fspath(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        window = list(_segments([result], model, max_segment_seconds, caught))
    kept, features = _window_features(window, [result], model.feature_config)
    return PreparedFile(result, [segment for _, segment in kept], features)


def finish_files(model, prepared, decoder="greedy", batch_size=DEFAULT_BATCH_SIZE):
    """The ``Transcription`` of each ``PreparedFile``, the segments of all of them batched
    together: ``finish_files(model, [prepare_file(model, p) for p in paths])`` gives what
    ``transcribe(model, paths)`` does."""
    results = [item.result for item in prepared]
    kept = [(index, segment) for index, item in enumerate(prepared) for segment in item.segments]
    features = [f for item in prepared for f in item.features]
    _decode_features(kept, features, results, model, make_decoder(decoder, model.vocabulary), batch_size,
                     frame_seconds(model))
    return [_finished(result) for result in results]
