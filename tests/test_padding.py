"""asr.padding.pad_batch: the one collation function."""

import numpy as np

from asr.padding import pad_batch


def test_pad_batch_rounds_up_and_keeps_lengths():
    batch, lengths = pad_batch([np.ones((5, 2)), np.ones((130, 2))], pad_multiple=64)
    assert batch.shape == (2, 192, 2) and list(lengths) == [5, 130]
    assert batch[0, 5:].sum() == 0
