"""Data helpers for text and tabular sequences (NumPy, backend-free): a small text
vectoriser, time-ordered splits and windows for forecasting.

Padding is ``asr.padding.pad_batch`` and standardisation ``asr.features.FeatureStats``,
the same functions the speech side uses.
"""

import collections
import json
import pathlib
import re

import numpy as np

from asr.errors import ConfigError
from asr.padding import pad_batch

PAD, OOV = 0, 1  # TextVectorizer ids: 0 pads (and is masked by Embedding(mask_zero=True)), 1 = unknown
_TOKEN = re.compile(r"[a-z']+|\d+|[!?$%&\u00a3\u20ac]")
NUMBER_BUCKETS = (1, 2, 4, 7)  # digit-run lengths -> shape tokens <num1>, <num2>, <num4>, <num7>


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
            raise ConfigError(f"max_tokens={max_tokens} must be >= 3 (padding, OOV and one word)")
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
            raise ConfigError("TextVectorizer is not fitted: call fit(texts) first")
        return [self._index.get(token, OOV) for token in tokenize(text)] or [OOV]

    def __call__(self, texts):
        """``(batch, time)`` int32 ids, right-padded with 0 (cut at ``max_length``)."""
        return pad_batch([self.encode(t) for t in texts], max_length=self.max_length, value=PAD, dtype=np.int32)[0]

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
        raise ConfigError(f"train={train}, val={val}: need 0 < train, 0 <= val and train + val < 1")
    n = len(series)
    a, b = int(n * train), int(n * (train + val))
    return series[:a], series[a:b], series[b:]


def make_windows(series, input_width, horizon, target_columns=None, stride=1):
    """Sliding windows over ``series`` (time, features): inputs ``(n, input_width, features)``
    and the next ``horizon`` steps of ``target_columns``, ``(n, horizon, n_targets)``."""
    series = np.asarray(series, dtype=np.float32)
    if series.ndim == 1:
        series = series[:, None]
    if input_width < 1 or horizon < 1 or stride < 1:
        raise ConfigError(f"input_width={input_width}, horizon={horizon}, stride={stride} must be >= 1")
    n = (len(series) - input_width - horizon) // stride + 1
    if n < 1:
        raise ConfigError(f"series of {len(series)} steps is shorter than input_width + horizon = "
                         f"{input_width + horizon}")
    columns = list(range(series.shape[1])) if target_columns is None else list(target_columns)
    starts = np.arange(n) * stride
    inputs = np.stack([series[s: s + input_width] for s in starts])
    targets = np.stack([series[s + input_width: s + input_width + horizon, columns] for s in starts])
    return inputs, targets


class SeasonalClimatology:
    """The seasonal normal of a series: a least-squares fit of ``harmonics`` sine/cosine pairs
    of period ``period`` (e.g. 365.25 days) to the values, fitted on training data only.

    Forecasting the anomaly (value minus normal) and adding the normal back is the classic
    way to keep a model from spending its capacity on the seasons.

    >>> normal = SeasonalClimatology().fit(day_of_year[:n_train], temperature[:n_train])
    >>> anomaly = temperature - normal(day_of_year)
    """

    def __init__(self, harmonics=2, period=365.25):
        if not isinstance(harmonics, int) or harmonics < 0:
            raise ConfigError(f"harmonics={harmonics!r} must be a non-negative integer")
        if not period > 0:
            raise ConfigError(f"period={period!r} must be > 0")
        self.harmonics, self.period, self.coefficients = harmonics, float(period), None

    def _design(self, time):
        phase = 2 * np.pi * np.asarray(time, dtype=np.float64) / self.period
        columns = [np.ones_like(phase)]
        for k in range(1, self.harmonics + 1):
            columns += [np.sin(k * phase), np.cos(k * phase)]
        return np.stack(columns, axis=-1)

    def fit(self, time, values):
        self.coefficients = np.linalg.lstsq(self._design(time), np.asarray(values, dtype=np.float64), rcond=None)[0]
        return self

    def __call__(self, time):
        if self.coefficients is None:
            raise ConfigError("SeasonalClimatology is not fitted: call fit(time, values) first")
        return (self._design(time) @ self.coefficients).astype(np.float32)
