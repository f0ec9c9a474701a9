"""From logits to log-probabilities, in NumPy, and the checks every decoder shares (the
decoders, the alignment and the plots use them)."""


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


MAX_BEAM_WIDTH = 1024  # CTC beams gain nothing past a few hundred; wider only burns minutes per second of audio
MAX_LM_WEIGHT = 10.0  # tuned weights are 0.3-3; beyond 10 the LM alone decides (and 1e308 overflows to nothing)
MAX_WORD_BONUS = 20.0  # |bonus| per word, in natural-log units like the CTC scores


def check_beam_options(beam_width, lm_weight, word_bonus):
    """The beam searches' common options: a width in 1..``MAX_BEAM_WIDTH``, an LM weight in
    [0, ``MAX_LM_WEIGHT``], a word bonus within +-``MAX_WORD_BONUS``."""
    if isinstance(beam_width, bool) or not isinstance(beam_width, int) or not 1 <= beam_width <= MAX_BEAM_WIDTH:
        raise ConfigError(f"beam_width={beam_width!r} must be an integer from 1 to {MAX_BEAM_WIDTH}")
    if not 0 <= lm_weight <= MAX_LM_WEIGHT:
        raise ConfigError(f"lm_weight={lm_weight!r} must be a number from 0 to {MAX_LM_WEIGHT:g}")
    if not -MAX_WORD_BONUS <= word_bonus <= MAX_WORD_BONUS:
        raise ConfigError(f"word_bonus={word_bonus!r} must be a number from {-MAX_WORD_BONUS:g} to {MAX_WORD_BONUS:g}")
