import warnings

import numpy as np
import pytest
from keras import ops

from asr.callbacks import ctc_losses
from asr.ctc import ctc_loss, ctc_nll, fits_ctc, required_frames
from asr.padding import pad_batch
from asr.posteriors import log_softmax

pytestmark = pytest.mark.backend_sensitive  # also run under every other backend

RNG = np.random.default_rng(0)


def test_padding_does_not_change_loss():
    logits = RNG.normal(size=(2, 12, 6)).astype("float32")
    labels = np.array([[1, 2, 2, 5], [3, 4, 0, 0]], "int32")
    label_lengths, logit_lengths = np.array([4, 2]), np.array([12, 7])
    batch = ops.convert_to_numpy(ctc_loss(labels, logits, label_lengths, logit_lengths))
    alone = ops.convert_to_numpy(ctc_loss(labels[1:, :2], logits[1:, :7], [2], [7]))
    garbage = labels.copy()
    garbage[1, 2:] = 5
    padded = ops.convert_to_numpy(ctc_loss(garbage, logits, label_lengths, logit_lengths))
    np.testing.assert_allclose(batch[1], alone[0], rtol=1e-5)
    np.testing.assert_allclose(batch, padded, rtol=1e-6)


def test_loss_of_certain_path_is_near_zero():
    logits = np.full((1, 5, 4), -30.0, "float32")
    for t, c in enumerate([1, 0, 2, 2, 0]):  # "a", blank, "b", "b" (collapses), blank
        logits[0, t, c] = 30.0
    assert ops.convert_to_numpy(ctc_loss([[1, 2]], logits, [2], [5]))[0] < 1e-3


def test_required_frames_counts_repeats():
    assert required_frames([1, 2, 3]) == 3
    assert required_frames([5, 5, 5, 2]) == 6  # blanks between the three 5s
    assert fits_ctc([5, 5], 3) and not fits_ctc([5, 5], 2) and not fits_ctc([], 10)


def test_ctc_losses_matches_batched_loss():
    logits = [RNG.normal(size=(n, 5)).astype("float32") for n in (9, 4, 13)]
    labels = [np.array(ids, "int32") for ids in ([1, 2], [3], [4, 4, 1])]
    got = ctc_losses(logits, labels, batch_size=2)
    for lg, lab, value in zip(logits, labels, got):
        expected = ops.convert_to_numpy(ctc_loss(lab[None], lg[None], [len(lab)], [len(lg)]))[0]
        np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_numpy_loss_matches_the_backend_loss_in_one_ragged_batch():
    lengths = [(7, 1), (40, 12), (13, 6), (90, 30), (25, 8)]  # (frames, labels), few-symbol labels repeat often
    logits = [3 * RNG.normal(size=(n, 6)).astype("float32") for n, _ in lengths]
    labels = [RNG.integers(1, 3 if i % 2 else 6, size=k).astype("int32") for i, (_, k) in enumerate(lengths)]
    got = ctc_nll(logits, labels)
    padded, frames = pad_batch(logits)  # one backend call (padding is checked above): one compiled shape
    label_batch, label_lengths = pad_batch(labels, dtype=np.int32)
    expected = ops.convert_to_numpy(ctc_loss(label_batch, padded, label_lengths, frames))
    assert got.shape == (5,)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_numpy_loss_of_no_labels_is_the_all_blank_path_and_of_too_many_is_infinite():
    logits = RNG.normal(size=(6, 4))
    empty, repeats = ctc_nll([logits, logits], [np.array([], "int32"), np.array([2, 2, 2, 2], "int32")])
    np.testing.assert_allclose(empty, -log_softmax(logits)[:, 0].sum())
    assert repeats == np.inf  # four 2s need seven frames (blanks between them)


def test_numpy_loss_of_nan_logits_is_nan_without_a_warning():
    logits = np.full((5, 4), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(ctc_nll([logits], [np.array([1, 2], "int32")])[0])
