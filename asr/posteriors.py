"""From logits to log-probabilities, in NumPy, and the checks every decoder shares (the
decoders, the alignment and the plots use them)."""

import math

import numpy as np

from asr.errors import ConfigError


def log_softmax(logits):
    """Log-probabilities over the last axis, float64 (softmax lives here, never in a model)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def check_logits(logits, lengths):
    """``(logits, lengths)`` as NumPy, checked: ``(batch, time, vocab)`` and ``(batch,)`` in ``[0, time]``."""
    logits = np.asarray(logits)
    if logits.ndim != 3:
        raise ConfigError(f"logits must have shape (batch, time, vocab), got {logits.shape}")
    lengths = np.full(len(logits), logits.shape[1]) if lengths is None else np.asarray(lengths)
    if lengths.shape != (len(logits),) or np.any(lengths > logits.shape[1]) or np.any(lengths < 0):
        raise ConfigError(f"lengths={lengths.tolist()} must be (batch,) values in [0, {logits.shape[1]}]")
    return logits, lengths


def check_beam_options(beam_width, lm_weight, word_bonus):
    """The beam searches' common options: a positive width, a finite LM weight >= 0, a finite bonus."""
    if not isinstance(beam_width, int) or beam_width < 1:
        raise ConfigError(f"beam_width={beam_width!r} must be a positive integer")
    if not 0 <= lm_weight < math.inf:
        raise ConfigError(f"lm_weight={lm_weight!r} must be a finite number >= 0")
    if not math.isfinite(word_bonus):
        raise ConfigError(f"word_bonus={word_bonus!r} must be a finite number")
