"""Length-bucketed, padded CTC training batches (NumPy, any backend).

``CTCBatches`` is a ``keras.utils.PyDataset`` over an ``UtteranceSet`` yielding::

    x = {"features": (B, T, F) float32, "feature_lengths": (B,) int32}
    y = {"labels": (B, L) int32, "label_lengths": (B,) int32}

with ``T`` padded up to a multiple of ``pad_multiple`` frames and ``L`` to ``T / 2``, so
JAX/XLA compiles one program per bucket instead of one per batch.

Several devices (``asr.distributed``): every batch size must split evenly over the devices,
so the last, partial batch of an epoch is cut to a multiple of ``batch_multiple`` (the
device count); the cut utterances (fewer than ``batch_multiple``, counted in
``trimmed_per_epoch``) differ from epoch to epoch as the buckets are reshuffled. Several
processes (``shard_count``) build the same batches and each yields its own contiguous share
of the rows, padded to the global batch's shapes.

Speaker balance (``speaker_cap``): a speaker with more items (utterances x speed copies) than
the cap contributes only ``speaker_cap`` of them per epoch, taken in turn from a fixed seeded
permutation of its items, so every item is used equally often (+-1) over the epochs and the
epoch size is the same each epoch (the learning-rate schedule counts on it).

Sampling weights (``weights``, one per item, e.g. its corpus' ``--train-weights``): the items
of weight ``w`` contribute ``round(w * n)`` draws per epoch (at least one), taken in turn from
a fixed seeded permutation of them: at 0.25 a quarter of them, other ones each epoch, every
one used within four epochs; at 2 each twice. The epoch size is the same every epoch.
"""

import keras
import numpy as np

from asr.errors import ConfigError, DataError
from asr.padding import PAD_MULTIPLE, pad_batch, padded_length

LABELS_PER_FRAME = 0.5  # labels are padded to frames * 0.5 (speech has ~0.15 characters per 10 ms frame),
#                         so each time bucket has a single label length too: one XLA program per bucket
SHUFFLE_JITTER = 0.15  # relative length noise when forming buckets, so batches vary per epoch
WEIGHTS_STREAM = 7  # seeds the weight groups' permutations apart from the speaker cap's ((seed, n) streams)


class CTCBatches(keras.utils.PyDataset):
    """Length-bucketed, padded CTC batches over an ``UtteranceSet``.

    Args:
        data: the utterances.
        batch_size: utterances per batch; the last, partial batch is kept.
        shuffle: new bucket composition and batch order each epoch (seeded).
        sortagrad: the first epoch goes shortest-first (SortaGrad, DeepSpeech 2).
        transform: optional ``f(features, rng) -> features`` applied per utterance (augmentation).
        workers: threads preparing batches ahead of the model (``keras.utils.PyDataset``).
        batch_multiple: every batch size is a multiple of this (the device count).
        shard_index, shard_count: this process' share of each batch's rows.
        speakers: one speaker label per utterance (None: each its own speaker), for ``speaker_cap``.
        speaker_cap: most items per speaker per epoch (0: no cap; see module doc).
        weights: one sampling weight > 0 per item (None: every item once per epoch; see module doc).
    """

    def __init__(self, data, batch_size=16, shuffle=True, sortagrad=False, seed=0, pad_multiple=PAD_MULTIPLE,
                 transform=None, workers=1, batch_multiple=1, shard_index=0, shard_count=1, speakers=None,
                 speaker_cap=0, weights=None, **kwargs):
        super().__init__(workers=workers, use_multiprocessing=False, **kwargs)
        if len(data) == 0:
            raise DataError(f"no utterances to batch ({data.report})")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size={batch_size!r} must be a positive integer")
        if batch_size % batch_multiple or batch_multiple % shard_count or not 0 <= shard_index < shard_count:
            raise ConfigError(f"batch_size={batch_size} must be a multiple of batch_multiple={batch_multiple}, "
                              f"itself a multiple of shard_count={shard_count} > shard_index={shard_index}")
        if not isinstance(speaker_cap, int) or speaker_cap < 0:
            raise ConfigError(f"speaker_cap={speaker_cap!r} must be an integer >= 0 (0: no cap)")
        if speakers is not None and len(speakers) != len(data):
            raise ConfigError(f"speakers has {len(speakers)} labels for {len(data)} utterances")
        if weights is not None and speaker_cap:
            raise ConfigError("speaker_cap and sampling weights cannot be combined: use one of them")
        self.speaker_items = _speaker_items(speakers, len(data), speaker_cap, seed)
        self.speaker_cap = speaker_cap
        self.weight_groups = None if weights is None else _weight_groups(weights, len(data), seed)
        epoch_size = sum(min(len(items), speaker_cap or len(items)) for items in self.speaker_items)
        if self.weight_groups is not None:
            epoch_size = sum(draws for _, draws in self.weight_groups)
        if epoch_size < batch_multiple:
            raise DataError(f"{epoch_size} utterances per epoch cannot fill one batch of {batch_multiple} devices")
        self.data, self.batch_size, self.shuffle = data, batch_size, shuffle
        self.pad_multiple, self.transform = pad_multiple, transform
        self.batch_multiple, self.shard_index, self.shard_count = batch_multiple, shard_index, shard_count
        self.seed, self.epoch = seed, 0
        self.sorted_first = sortagrad
        self.lengths = data.frame_lengths
        self.epoch_size = epoch_size
        self.trimmed_per_epoch = epoch_size % batch_size % batch_multiple
        self.batches = self._make_batches()

    def _make_batches(self):
        rng = np.random.default_rng((self.seed, self.epoch))
        items = self._epoch_items()
        lengths = self.lengths[items]
        if not self.shuffle or (self.sorted_first and self.epoch == 0):
            order = items[np.argsort(lengths, kind="stable")]
        else:
            noisy = lengths * (1.0 + SHUFFLE_JITTER * rng.uniform(-1, 1, len(lengths)))
            order = items[np.argsort(noisy, kind="stable")]
        if self.trimmed_per_epoch:  # cut the partial batch to a multiple of the device count (see module doc)
            cut = rng.choice(len(order) - len(order) % self.batch_size + np.arange(len(order) % self.batch_size),
                             self.trimmed_per_epoch, replace=False)
            order = np.delete(order, cut)
        batches = [order[i: i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.shuffle and not (self.sorted_first and self.epoch == 0):
            rng.shuffle(batches)
        return batches

    def _epoch_items(self):
        """This epoch's utterance indices (all of them without a speaker cap or weights), ascending."""
        if self.weight_groups is not None:  # each group's next draws of its permutation, cyclically
            picked = [items[(self.epoch * draws + np.arange(draws)) % len(items)]
                      for items, draws in self.weight_groups]
            return np.sort(np.concatenate(picked))
        if not self.speaker_cap:
            return np.arange(len(self.lengths))
        picked = []
        for items in self.speaker_items:
            if len(items) <= self.speaker_cap:
                picked.append(items)
            else:  # the next speaker_cap items of the speaker's permutation, cyclically
                picked.append(items[(self.epoch * self.speaker_cap + np.arange(self.speaker_cap)) % len(items)])
        return np.sort(np.concatenate(picked))

    def epoch_frames(self):
        """``(frames, padded_frames)`` of this epoch's batches: the feature frames of the utterances
        drawn (speed-perturbed copies at their own length) and the frames the model computes on
        once each batch is padded (its size x its padded length), over every process' rows."""
        lengths = [self.lengths[ids] for ids in self.batches]
        padded = sum(len(n) * padded_length(n.max(), self.pad_multiple) for n in lengths)
        return int(sum(int(n.sum()) for n in lengths)), int(padded)

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        ids = self.batches[index]
        feats = [np.asarray(self.data.features[i], dtype=np.float32) for i in ids]
        if self.transform is not None:
            rng = np.random.default_rng((self.seed, self.epoch, index))
            feats = [self.transform(f, rng) for f in feats]
        features, feature_lengths = pad_batch(feats, self.pad_multiple)
        labels = [self.data.labels[i] for i in ids]
        label_pad = max(int(features.shape[1] * LABELS_PER_FRAME), max(len(label) for label in labels))
        labels, label_lengths = pad_batch(labels, label_pad, dtype=np.int32)
        rows = slice(None)
        if self.shard_count > 1:  # this process' contiguous share, shapes of the global batch
            share = len(ids) // self.shard_count
            rows = slice(self.shard_index * share, (self.shard_index + 1) * share)
        return ({"features": features[rows], "feature_lengths": feature_lengths[rows]},
                {"labels": labels[rows], "label_lengths": label_lengths[rows]})

    def set_epoch(self, epoch):
        """Batches of ``epoch`` (0-based): a resumed run continues the same sequence of batches."""
        self.epoch = epoch
        self.batches = self._make_batches()

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)


def _speaker_items(speakers, count, cap, seed):
    """Per speaker (in first-seen order), its utterance indices: a seeded permutation when it has
    more than ``cap`` (so each epoch's share is a fresh mix), else ascending."""
    if not cap:
        return [np.arange(count)]
    groups = {}
    for index, speaker in enumerate(speakers if speakers is not None else [None] * count):
        groups.setdefault(("item", index) if speaker is None else ("speaker", str(speaker)), []).append(index)
    result = []
    for number, items in enumerate(groups.values()):
        items = np.asarray(items)
        result.append(np.random.default_rng((seed, number)).permutation(items) if len(items) > cap else items)
    return result


def _weight_groups(weights, count, seed):
    """Per distinct weight (ascending): a seeded permutation of its items and its draws per epoch."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (count,) or not (np.isfinite(weights).all() and (weights > 0).all()):
        raise ConfigError(f"weights must be {count} finite numbers > 0, one per item; got shape {weights.shape}, "
                          f"values {sorted(set(weights.ravel().tolist()))[:5]}")
    groups = []
    for number, weight in enumerate(np.unique(weights)):
        items = np.flatnonzero(weights == weight)
        permuted = np.random.default_rng((seed, WEIGHTS_STREAM, number)).permutation(items)
        groups.append((permuted, max(1, int(round(weight * len(items))))))
    return groups
