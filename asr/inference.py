"""Batched inference: features -> logits -> text.

>>> from asr import load_model, transcribe
>>> transcribe(load_model("model.keras"), ["a.wav", "b.flac"])          # greedy
>>> transcribe(model, paths, decoder="beam")                             # CTC prefix beam search
"""

import numpy as np

from asr.decoding import make_decoder
from asr.distributed import local_batch_multiple
from asr.errors import ConfigError
from asr.features import extract_file
from asr.padding import PAD_MULTIPLE, pad_batch

DEFAULT_BATCH_SIZE = 16


def predict_logits(model, features, batch_size=DEFAULT_BATCH_SIZE, progress=False):
    """Logits for each ``(frames, n_features)`` array, unpadded: list of ``(frames', vocab)``.

    Utterances are batched by length (similar lengths together) and returned in input order.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size={batch_size!r} must be a positive integer")
    order = np.argsort([f.shape[0] for f in features], kind="stable")
    results = [None] * len(features)
    starts = range(0, len(order), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="transcribe", unit="batch")
    multiple = local_batch_multiple()  # rows split evenly over the devices of a distribution
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


def transcribe(model, paths, decoder="greedy", batch_size=DEFAULT_BATCH_SIZE, progress=False):
    """Transcribe audio files with an ``AcousticModel``; returns one string per path.

    Features are computed with the model's own ``feature_config`` (its sample rate,
    feature kind and normalisation statistics travel inside the model file).
    """
    if isinstance(paths, (str, bytes)) or not hasattr(paths, "__iter__"):
        paths = [paths]
    decoder = make_decoder(decoder, model.vocabulary)
    features = [extract_file(path, model.feature_config) for path in paths]
    return decode_logits(decoder, predict_logits(model, features, batch_size, progress))
