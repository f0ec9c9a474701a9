"""CTC loss with true per-utterance lengths (blank = ``asr.text.BLANK`` = 0).

``keras.ops.ctc_loss`` takes logits and is consistent across backends when every label
fits its logits; utterances that cannot fit are removed before training
(``fits_ctc``), because backends disagree on them (finite / 1e5 / inf).

``ctc_nll`` is the same loss in NumPy, for scoring outside the training step (the dev loss
after every epoch): no backend dispatch (TensorFlow runs its CTC scan op by op when eager),
the same number under every backend, and ``inf`` where the labels cannot fit.
"""

import numpy as np
from keras import ops

from asr.padding import pad_batch
from asr.posteriors import log_softmax
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


def ctc_nll(logits, labels):
    """Per-utterance CTC negative log-likelihood in NumPy, float64 ``(batch,)``.

    Args:
        logits: unpadded ``(time, vocab)`` arrays, one per utterance (softmax applied here).
        labels: int label-id arrays, one per utterance (no blanks).

    The forward (alpha) recursion over the blank-extended labels ``(blank, l1, blank, l2, ...,
    blank)``, in log space, one time step at a time for the whole batch; an utterance's alphas
    stop moving after its last frame.
    """
    log_probs, frames = pad_batch([log_softmax(lg) for lg in logits], dtype=np.float64)
    label_ids, label_lengths = pad_batch([np.asarray(lab) for lab in labels], dtype=np.int64)
    batch, n_states = len(log_probs), 2 * label_ids.shape[1] + 1
    extended = np.full((batch, n_states), BLANK, dtype=np.int64)
    extended[:, 1::2] = label_ids
    emit = np.take_along_axis(log_probs, extended[:, None, :], axis=2)  # (batch, time, states)
    skip = np.full((batch, n_states), -np.inf)  # 0 where a label may follow the previous label directly
    skip[:, 3::2] = np.where(label_ids[:, 1:] != label_ids[:, :-1], 0.0, -np.inf)
    shifted = np.full((batch, n_states + 2), -np.inf)  # alpha behind two -inf columns: no copies per step
    alpha = shifted[:, 2:]
    alpha[:, :2] = emit[:, 0, :2]
    with np.errstate(invalid="ignore"):  # NaN logits (a diverged model) give a NaN loss, quietly
        for t in range(1, log_probs.shape[1]):
            moved = np.logaddexp(np.logaddexp(alpha, shifted[:, 1:-1]), shifted[:, :-2] + skip) + emit[:, t]
            alpha[:] = np.where((t < frames)[:, None], moved, alpha)
        rows, last = np.arange(batch), 2 * label_lengths  # the final blank and the last label may end a path
        before_last = np.where(last > 0, alpha[rows, np.maximum(last - 1, 0)], -np.inf)
        return np.where(frames > 0, -np.logaddexp(alpha[rows, last], before_last), np.inf)


def required_frames(label_ids):
    """Fewest CTC frames that can emit ``label_ids``: one per label plus a blank between repeats."""
    label_ids = np.asarray(label_ids)
    return int(label_ids.size + np.count_nonzero(label_ids[1:] == label_ids[:-1]))


def fits_ctc(label_ids, n_frames):
    """True when ``n_frames`` logits can align to ``label_ids`` (non-empty labels only)."""
    return len(label_ids) > 0 and required_frames(label_ids) <= n_frames
