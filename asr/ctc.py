"""CTC loss with true per-utterance lengths (blank = ``asr.text.BLANK`` = 0).

``keras.ops.ctc_loss`` takes logits and is consistent across backends when every label
fits its logits; utterances that cannot fit are removed before training
(``fits_ctc``), because backends disagree on them (finite / 1e5 / inf).
"""

import numpy as np
from keras import ops

from asr.text import BLANK


def ctc_loss(labels, logits, label_lengths, logit_lengths):
    """Per-utterance negative log-likelihood, float32 ``(batch,)``.

    Args:
        labels: int ``(batch, max_label_length)``; values past ``label_lengths`` are ignored.
        logits: ``(batch, time, vocab)`` unnormalised scores (any float dtype; cast to float32).
        label_lengths, logit_lengths: int ``(batch,)`` true lengths (never the padded ones).
    """
    return ops.ctc_loss(ops.cast(labels, "int32"), ops.cast(logits, "float32"),
                        ops.cast(label_lengths, "int32"), ops.cast(logit_lengths, "int32"), mask_index=BLANK)


def required_frames(label_ids):
    """Fewest CTC frames that can emit ``label_ids``: one per label plus a blank between repeats."""
    label_ids = np.asarray(label_ids)
    return int(label_ids.size + np.count_nonzero(label_ids[1:] == label_ids[:-1]))


def fits_ctc(label_ids, n_frames):
    """True when ``n_frames`` logits can align to ``label_ids`` (non-empty labels only)."""
    return len(label_ids) > 0 and required_frames(label_ids) <= n_frames
