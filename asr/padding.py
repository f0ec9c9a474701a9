"""Padding variable-length arrays into one batch (NumPy, Keras-free): the one collation
function of the toolkit, used by training batches, inference, evaluation and the sequence
tasks alike (lhotse keeps collation in one module for the same reason).
"""

import numpy as np

from asr.errors import ConfigError

PAD_MULTIPLE = 128  # frames (1.28 s at 10 ms): one compiled shape per bucket, <= ~10% padding at 13 s


def padded_length(longest, pad_multiple=1):
    """The padded length of a batch whose longest array is ``longest``: rounded up to a multiple of
    ``pad_multiple`` (at least one multiple)."""
    return int(-(-max(int(longest), 1) // pad_multiple) * pad_multiple)


def pad_batch(arrays, pad_multiple=1, max_length=None, value=0, dtype=np.float32):
    """Stack ``(time, ...)`` arrays into ``(batch, T, ...)``, right-padded with ``value``.

    ``T`` is the longest length rounded up to a multiple of ``pad_multiple`` (so JAX/XLA
    compiles one program per bucket, not per batch), or ``max_length`` when given, in which
    case longer arrays are cut. Returns ``(padded, lengths)``: ``lengths`` int32 ``(batch,)``
    are the kept (true) lengths.
    """
    if len(arrays) == 0:
        raise ConfigError("pad_batch got no arrays to pad")
    if not isinstance(pad_multiple, (int, np.integer)) or pad_multiple < 1:
        raise ConfigError(f"pad_multiple={pad_multiple!r} must be a positive integer")
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int32)
    if max_length is None:
        max_length = padded_length(lengths.max(), pad_multiple)
    lengths = np.minimum(lengths, max_length)
    out = np.full((len(arrays), max_length) + arrays[0].shape[1:], value, dtype=dtype)
    for i, (a, n) in enumerate(zip(arrays, lengths)):
        out[i, :n] = a[:n]
    return out, lengths
