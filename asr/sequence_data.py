"""Data helpers for non-speech sequences (NumPy, backend-free): padding with lengths, a
small text vectoriser, and time-ordered windows for forecasting."""

import collections
import json
import pathlib
import re

import numpy as np

PAD, OOV = 0, 1  # TextVectorizer ids: 0 pads (and is masked by Embedding(mask_zero=True)), 1 = unknown
_TOKEN = re.compile(r"[a-z']+|\d+|[!?$%&\u00a3\u20ac]")
NUMBER_BUCKETS = (1, 2, 4, 7)  # digit-run lengths -> shape tokens <num1>, <num2>, <num4>, <num7>


def pad_sequences(sequences, max_length=None, value=0.0, dtype="float32"):
    """Right-pad ``(time, ...)`` arrays into ``(batch, max_length, ...)``; longer ones are cut.

    Returns ``(padded, lengths)``; ``lengths`` are the kept lengths.
    """
    if len(sequences) == 0:
        raise ValueError("pad_sequences got no sequences")
    arrays = [np.asarray(s, dtype=dtype) for s in sequences]
    max_length = max_length or max(len(a) for a in arrays)
    out = np.full((len(arrays), max_length) + arrays[0].shape[1:], value, dtype=dtype)
    lengths = np.zeros(len(arrays), dtype=np.int32)
    for i, a in enumerate(arrays):
        lengths[i] = min(len(a), max_length)
        out[i, : lengths[i]] = a[: lengths[i]]
    return out, lengths


def _number_token(digits):
    """A run of digits -> its shape: ``<num1>`` (1 digit) ... ``<num7>`` (7 or more); numbers of
    7+ digits (phone numbers) keep their first two digits, which carry the code (``<num7:08>``)."""
    bucket = max(b for b in NUMBER_BUCKETS if len(digits) >= b)
    return f"<num{bucket}:{digits[:2]}>" if bucket == NUMBER_BUCKETS[-1] else f"<num{bucket}>"


def tokenize(text):
    """Lower-cased words, digit runs as shape tokens (``"2"`` -> ``<num1>``, ``08712460324`` ->
    ``<num7:08>``: numbers generalise by shape, not value), and the symbols ``! ? $ % & £ €``."""
    return [_number_token(t) if t[0].isdigit() else t for t in _TOKEN.findall(str(text).lower())]


class TextVectorizer:
    """Word vocabulary from training texts; texts -> padded id arrays.

    Ids: 0 = padding, 1 = out-of-vocabulary, then words by decreasing frequency
    (ties alphabetical). Works on any Keras backend (pure Python/NumPy).
    """

    def __init__(self, max_tokens=20000, min_count=1, max_length=None):
        if max_tokens < 3:
            raise ValueError(f"max_tokens={max_tokens} must be >= 3 (padding, OOV and one word)")
        self.max_tokens, self.min_count, self.max_length = max_tokens, min_count, max_length
        self.vocabulary = []

    def fit(self, texts):
        counts = collections.Counter(token for text in texts for token in tokenize(text))
        ranked = sorted((w for w, c in counts.items() if c >= self.min_count), key=lambda w: (-counts[w], w))
        self.vocabulary = ranked[: self.max_tokens - 2]
        self._index = {w: i + 2 for i, w in enumerate(self.vocabulary)}
        return self

    @property
    def size(self):
        """Embedding input size: padding + OOV + words."""
        return len(self.vocabulary) + 2

    def encode(self, text):
        if not hasattr(self, "_index"):
            raise ValueError("TextVectorizer is not fitted: call fit(texts) first")
        return [self._index.get(token, OOV) for token in tokenize(text)] or [OOV]

    def __call__(self, texts):
        """``(batch, time)`` int32 ids, right-padded with 0 (cut at ``max_length``)."""
        return pad_sequences([self.encode(t) for t in texts], self.max_length, value=PAD, dtype="int32")[0]

    def save(self, path):
        config = {"max_tokens": self.max_tokens, "min_count": self.min_count, "max_length": self.max_length,
                  "vocabulary": self.vocabulary}
        pathlib.Path(path).write_text(json.dumps(config), encoding="utf-8")

    @classmethod
    def load(cls, path):
        config = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
        vectorizer = cls(config["max_tokens"], config["min_count"], config["max_length"])
        vectorizer.vocabulary = config["vocabulary"]
        vectorizer._index = {w: i + 2 for i, w in enumerate(vectorizer.vocabulary)}
        return vectorizer


def time_split(series, train=0.7, val=0.15):
    """Split ``(time, ...)`` into consecutive train/val/test parts, in time order."""
    if not (0 < train < 1 and 0 <= val < 1 and train + val < 1):
        raise ValueError(f"train={train}, val={val}: need 0 < train, 0 <= val and train + val < 1")
    n = len(series)
    a, b = int(n * train), int(n * (train + val))
    return series[:a], series[a:b], series[b:]


class Standardizer:
    """Per-column mean/std, fitted on the training part only, applied to any part."""

    def fit(self, data):
        data = np.asarray(data, dtype=np.float64)
        self.mean, self.std = data.mean(axis=0), np.maximum(data.std(axis=0), 1e-8)
        return self

    def transform(self, data):
        return ((np.asarray(data) - self.mean) / self.std).astype(np.float32)

    def inverse(self, data, columns=None):
        columns = slice(None) if columns is None else columns
        return np.asarray(data) * self.std[columns] + self.mean[columns]


def make_windows(series, input_width, horizon, target_columns=None, stride=1):
    """Sliding windows over ``series`` (time, features): inputs ``(n, input_width, features)``
    and the next ``horizon`` steps of ``target_columns``, ``(n, horizon, n_targets)``."""
    series = np.asarray(series, dtype=np.float32)
    if series.ndim == 1:
        series = series[:, None]
    if input_width < 1 or horizon < 1 or stride < 1:
        raise ValueError(f"input_width={input_width}, horizon={horizon}, stride={stride} must be >= 1")
    n = (len(series) - input_width - horizon) // stride + 1
    if n < 1:
        raise ValueError(f"series of {len(series)} steps is shorter than input_width + horizon = "
                         f"{input_width + horizon}")
    columns = list(range(series.shape[1])) if target_columns is None else list(target_columns)
    starts = np.arange(n) * stride
    inputs = np.stack([series[s: s + input_width] for s in starts])
    targets = np.stack([series[s + input_width: s + input_width + horizon, columns] for s in starts])
    return inputs, targets
